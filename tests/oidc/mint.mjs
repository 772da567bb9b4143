// Tokens for tests/oidc/run.sh that the provider would not issue.
//
// Usage: node mint.mjs rogue KID ISSUER AUDIENCE [ALG]
//   Prints an access token with chidao's claims (role admin) and the provider's issuer and
//   audience, signed by a key made here and published nowhere, under the key id KID (a kid
//   the provider never had, or one of its own: either way chidao must refuse it).
import { SignJWT, generateKeyPair } from 'jose';

const [what, kid, issuer, audience, alg = 'RS256'] = process.argv.slice(2);
if (what !== 'rogue' || !kid || !issuer || !audience) {
    console.error('usage: node mint.mjs rogue KID ISSUER AUDIENCE [ALG]');
    process.exit(2);
}
const { privateKey } = await generateKeyPair(alg);
const token = await new SignJWT({ role: 'admin', client_id: 'mallory' })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setSubject('mallory')
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);
console.log(token);
