// A real OpenID provider for tests/oidc/run.sh: panva's oidc-provider (the certified
// implementation), on 127.0.0.1, issuing JWT access tokens with chidao's claims through the
// client_credentials grant.
//
// Usage: node provider.mjs PORT GENERATION
//   PORT        the port to listen on (the issuer is http://127.0.0.1:PORT)
//   GENERATION  a label put into the key ids (`rsa-<GENERATION>`, `ec-<GENERATION>`): each start
//               makes a new RS256 and a new ES256 key, so a restart with another label is a key
//               rotation (the old keys are gone from the JWKS).
//
// Clients (secret: `secret-of-<client_id>`), each with the claims its tokens carry:
//   admin-rs    role admin, signed RS256
//   monitor-es  role monitor, signed ES256
//   stc-es      role agency, agency so-tai-chinh, signed ES256
//   ghost-rs    role agency, agency so-khong-co (not in chidao's directory), signed RS256
// Tokens are for the resource indicator RESOURCE below, which is their `aud` (chidao's
// JWT_AUDIENCE). Prints `listening <issuer>` once it accepts connections.
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

export const RESOURCE = 'urn:laocai:chidao';

const [port, generation] = process.argv.slice(2);
if (!port || !generation) {
    console.error('usage: node provider.mjs PORT GENERATION');
    process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const CLIENTS = {
    'admin-rs': { role: 'admin', alg: 'RS256' },
    'monitor-es': { role: 'monitor', alg: 'ES256' },
    'stc-es': { role: 'agency', agency: 'so-tai-chinh', alg: 'ES256' },
    'ghost-rs': { role: 'agency', agency: 'so-khong-co', alg: 'RS256' },
};

async function signingKey(alg, kid) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

const keys = [await signingKey('RS256', `rsa-${generation}`), await signingKey('ES256', `ec-${generation}`)];

const provider = new Provider(issuer, {
    clients: Object.keys(CLIENTS).map((id) => ({
        client_id: id,
        client_secret: `secret-of-${id}`,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
    })),
    jwks: { keys },
    features: {
        // No login pages: only machine-to-machine tokens are issued here.
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
            enabled: true,
            defaultResource: () => RESOURCE,
            useGrantedResource: () => true,
            getResourceServerInfo(_ctx, resourceIndicator, client) {
                if (resourceIndicator !== RESOURCE) {
                    throw new Error(`unknown resource ${resourceIndicator}`);
                }
                return {
                    scope: 'chidao',
                    audience: RESOURCE,
                    accessTokenTTL: 600,
                    accessTokenFormat: 'jwt',
                    jwt: { sign: { alg: CLIENTS[client.clientId].alg } },
                };
            },
        },
    },
    // chidao's claims: `role`, and `agency` for role agency (`sub` is the client id).
    async extraTokenClaims(_ctx, token) {
        const { role, agency } = CLIENTS[token.clientId] ?? {};
        return agency ? { role, agency } : { role };
    },
});
// Plain http on loopback: the provider runs without a TLS-terminating proxy in front, so it
// must not expect X-Forwarded-* headers.
provider.proxy = false;
provider.on('server_error', (_ctx, err) => console.error('provider error:', err));

const server = provider.listen(Number(port), '127.0.0.1', () => {
    console.log(`listening ${issuer} keys ${keys.map((k) => k.kid).join(',')}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => server.close(() => process.exit(0)));
}
