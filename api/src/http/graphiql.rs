//! GraphiQL, served by chidao itself: the province's intranet has no Internet, so the page
//! cannot load React and GraphiQL from a CDN as async-graphql's `GraphiQLSource` page does.
//!
//! * **Assets.** The pinned builds in `api/assets/graphiql/` (see its README: package, version,
//!   licence and sha256 of each, and `update.sh`) and chidao's own `app.js` and `app.css`, all
//!   embedded in the binary, so it serves them from any working directory. Each is served at
//!   `/graphiql/assets/<stem>.<hash>.<ext>`, the hash being of its content: a new version is a
//!   new URL, so every asset can be cached for a year as immutable.
//! * **The page** (`GET /graphql` from a browser) is never cached, so a new binary's page
//!   names its new assets at once; it carries a strict Content-Security-Policy ([`CSP`]), which
//!   works because the page has no inline script and loads nothing from anywhere else.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error_response;
use crate::error::ApiError;

/// Where the assets are served.
const PREFIX: &str = "/graphiql/assets/";

/// The page's Content-Security-Policy, as tight as GraphiQL 3 renders under in Chromium
/// (`tests/browser/run.sh` fails on any violation); `{nonce}` is new for every response:
///
/// * `default-src 'none'`: nothing that is not named below (no frames, workers, objects,
///   manifests, media).
/// * `script-src 'self'`: only the embedded scripts; no inline script and no `eval`, which
///   neither React nor GraphiQL 3 needs.
/// * `style-src 'self' 'nonce-…'`: the style sheets, and the `<style>` element that GraphiQL's
///   dialogs and menus add while open (Radix UI's scroll lock, whose content varies with the
///   scrollbar's width, so no hash fits). It carries the nonce, which `app.js` hands to GraphiQL
///   as `__webpack_nonce__`. No `'unsafe-inline'`: any other inline style, `style="…"`
///   attributes included, is refused. (Styles React and CodeMirror set through the DOM's
///   `element.style` are not inline styles to CSP.)
/// * `img-src 'self'`: the page's icon. `font-src data:`: GraphiQL's style sheet embeds its
///   fonts as `data:` URLs.
/// * `connect-src 'self'`: `POST /graphql` and, by CSP level 3, `ws(s)://` to the same host
///   for `/graphql/ws`.
/// * `frame-ancestors 'none'`, `base-uri 'none'`, `form-action 'none'`: the page cannot be
///   framed (clickjacking with a pasted token), nor its relative URLs or forms redirected.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; \
     img-src 'self'; font-src data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'none'";

/// One embedded file.
struct Asset {
    /// Its name in `api/assets/graphiql/`.
    file: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
}

macro_rules! asset {
    ($file:literal, $content_type:expr) => {
        Asset {
            file: $file,
            bytes: include_bytes!(concat!("../../assets/graphiql/", $file)),
            content_type: $content_type,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: [Asset; 8] = [
    asset!("react.production.min.js", JS),
    asset!("react-dom.production.min.js", JS),
    asset!("graphql-ws.min.js", JS),
    asset!("graphiql.min.js", JS),
    asset!("graphiql.min.css", CSS),
    asset!("app.js", JS),
    asset!("app.css", CSS),
    asset!("favicon.svg", "image/svg+xml"),
];

/// The page, with placeholders: a file name in double braces for that asset's URL, and
/// `nonce` in double braces for the response's style nonce.
const TEMPLATE: &str = include_str!("../../assets/graphiql/index.html");

/// Each asset's published name, `<stem>.<hash>.<ext>`, computed once.
static NAMES: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let hash = format!("{:016x}", fnv1a(a.bytes));
            let name = match a.file.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{}.{hash}", a.file),
            };
            (name, a)
        })
        .collect()
});

/// The page with the assets' URLs filled in, made once.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    NAMES.iter().fold(TEMPLATE.to_owned(), |page, (name, a)| {
        page.replace(&format!("{{{{{}}}}}", a.file), &format!("{PREFIX}{name}"))
    })
});

/// FNV-1a, 64 bits: a content hash to tell versions apart in URLs (not a security measure;
/// the files are the binary's own). std has no stable hash of bytes, and this needs no crate.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn headers(res: &mut Response, list: &[(HeaderName, &'static str)]) {
    for (k, v) in list {
        res.headers_mut().insert(k.clone(), HeaderValue::from_static(v));
    }
}

/// The GraphiQL page (`GET /graphql` with `Accept: text/html` and no `query`).
pub(crate) fn page() -> Response {
    let nonce = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>())
    };
    let mut res = (StatusCode::OK, PAGE.replace("{{nonce}}", &nonce)).into_response();
    // Base64 is always a valid header value; were it not, the page would get a policy that
    // allows nothing rather than none at all.
    let csp = HeaderValue::from_str(&CSP.replace("{nonce}", &nonce))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
    headers(
        &mut res,
        &[
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Revalidated every time: the page names the assets of the binary now running (and
            // its nonce is for one response).
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // For browsers without CSP's frame-ancestors.
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            // The same URL answers JSON to a client that does not ask for HTML.
            (header::VARY, "Accept"),
        ],
    );
    res
}

/// `GET /graphiql/assets/{name}`: an embedded asset, cached for a year; anything else 404.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let Some((_, a)) = NAMES.iter().find(|(n, _)| *n == name) else {
        return error_response(
            StatusCode::NOT_FOUND,
            &ApiError::NotFound(format!("Không có tệp {PREFIX}{name}")),
        );
    };
    let mut res = (StatusCode::OK, a.bytes).into_response();
    headers(
        &mut res,
        &[
            (header::CONTENT_TYPE, a.content_type),
            // The URL changes with the content, so a cached copy is never stale.
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                HeaderName::from_static("cross-origin-resource-policy"),
                "same-origin",
            ),
        ],
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL an asset is served at, by its file name in `api/assets/graphiql/`.
    fn asset_url(file: &str) -> Option<String> {
        NAMES
            .iter()
            .find(|(_, a)| a.file == file)
            .map(|(name, _)| format!("{PREFIX}{name}"))
    }

    #[test]
    fn the_page_names_every_asset_by_its_hashed_url() {
        assert!(
            !PAGE.replace("{{nonce}}", "").contains("{{"),
            "a placeholder is left: {}",
            *PAGE
        );
        for a in &ASSETS {
            let url = asset_url(a.file).expect("url");
            assert!(PAGE.contains(&url), "{} is not on the page", a.file);
            assert!(url.starts_with(PREFIX) && url.len() > PREFIX.len() + a.file.len() + 16);
        }
        assert!(
            !PAGE.contains("http://") && !PAGE.contains("https://"),
            "nothing from elsewhere"
        );
        assert!(
            !PAGE.contains("<script>") && !PAGE.contains("<style"),
            "no inline script or style"
        );
    }

    #[test]
    fn a_change_of_content_is_a_change_of_url() {
        assert_ne!(fnv1a(b"graphiql 3.9.0"), fnv1a(b"graphiql 3.9.1"));
        let names: std::collections::HashSet<&String> = NAMES.iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), ASSETS.len());
    }

    #[test]
    fn the_vendored_builds_are_the_ones_the_page_expects() {
        let text = |file: &str| {
            let a = ASSETS.iter().find(|a| a.file == file).expect("asset");
            String::from_utf8_lossy(a.bytes).into_owned()
        };
        assert!(text("react.production.min.js").contains("react.production.min.js"));
        assert!(text("graphiql.min.js").contains("GraphiQL"));
        assert!(text("graphql-ws.min.js").contains("graphqlWs"));
    }
}
