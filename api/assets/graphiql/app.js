/*
 * chidao's GraphiQL: starts the vendored GraphiQL (globals React, ReactDOM, GraphiQL and
 * graphqlWs, loaded before this file) with a fetcher of chidao's own.
 *
 * Why a fetcher of our own rather than GraphiQL.createFetcher: createFetcher builds one
 * graphql-ws client when the page loads, so the token pasted later into the Headers tab would
 * never reach the socket's `connection_init`, which is where chidao reads it for
 * subscriptions. Here queries and mutations go to POST /graphql with the Headers tab's
 * headers, and subscriptions go over ws(s)://<this host>/graphql/ws with a graphql-ws client
 * made for the Authorization header of the moment.
 *
 * The page allows no inline script (Content-Security-Policy script-src 'self'), which is why
 * this is a file.
 */
(function () {
  "use strict";

  var PLACEHOLDER = "<dán token vào đây>";
  var HEADERS = '{\n  "Authorization": "Bearer ' + PLACEHOLDER + '"\n}';
  var DEFAULT_QUERY = [
    "# Dán token vào tab Headers, rồi bấm ▶ (Ctrl-Enter).",
    "# Paste a token into Headers, then press ▶ (Ctrl-Enter).",
    "{",
    "  directives(first: 1) {",
    "    nodes {",
    "      number",
    "      title",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
  var HTTP_URL = "/graphql";
  var WS_URL = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql/ws";

  var statusLine = document.getElementById("chidao-status");

  // The page's CSP allows inline <style> only with this response's nonce, which chidao puts on
  // this script's element. GraphiQL's dialogs and menus (Radix UI) add a <style> while open, and
  // give it the nonce they find in `__webpack_nonce__`.
  var nonce = document.currentScript && document.currentScript.nonce;
  if (nonce) window.__webpack_nonce__ = nonce;

  /** Shows one line under the help text (Vietnamese, then English). */
  function say(kind, vi, en) {
    if (!statusLine) return;
    statusLine.dataset.kind = kind;
    statusLine.textContent = en ? vi + " / " + en : vi;
  }

  /** The claims of a JWT, for showing which role a token has (nothing is verified here). */
  function claims(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var text = atob(part + "===".slice((part.length + 3) % 4));
      var bytes = Uint8Array.from(text, function (c) {
        return c.charCodeAt(0);
      });
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      return null;
    }
  }

  /**
   * The Authorization header among `headers` (any letter case), or why it cannot be sent. The
   * placeholder is never sent: it is not a token, and fetch() refuses a header that is not
   * Latin-1, which the Vietnamese placeholder is not.
   */
  function authorization(headers) {
    var value = null;
    Object.keys(headers || {}).forEach(function (k) {
      if (k.toLowerCase() === "authorization") value = headers[k];
    });
    if (value === null || value === undefined || String(value).trim() === "") {
      return {
        problem:
          'Chưa có token: thêm {"Authorization": "Bearer <token>"} vào tab Headers. ' +
          'No token yet: add {"Authorization": "Bearer <token>"} in the Headers tab.',
      };
    }
    value = String(value).trim();
    if (value.indexOf(PLACEHOLDER) >= 0 || /[<>]/.test(value)) {
      return {
        problem:
          "Chưa có token: dán token vào tab Headers, thay cho " + PLACEHOLDER + ". " +
          "No token yet: paste one into the Headers tab in place of " + PLACEHOLDER + ".",
      };
    }
    if (!/^Bearer\s+\S+$/i.test(value)) {
      return {
        problem:
          'Authorization phải có dạng "Bearer <token>". Authorization must be "Bearer <token>".',
      };
    }
    if (/[^\x20-\x7e]/.test(value)) {
      return {
        problem:
          "Token chỉ gồm ký tự ASCII; hãy dán lại. A token is ASCII only; paste it again.",
      };
    }
    return { value: value };
  }

  /** A response made of one error, shown in the result pane (or the Docs pane). */
  function refusal(message, code) {
    return { errors: [{ message: message, extensions: { code: code || "UNAUTHENTICATED" } }] };
  }

  /** Whether the operation to run is a subscription. */
  function isSubscription(params) {
    // Parsed here rather than taken from the fetcher's `documentAST`, which GraphiQL updates
    // a moment after an edit: a subscription pasted and run at once would go by POST.
    var doc;
    try {
      doc = GraphiQL.GraphQL.parse(params.query);
    } catch (e) {
      return false;
    }
    var ops = doc.definitions.filter(function (d) {
      return d.kind === "OperationDefinition";
    });
    var op = params.operationName
      ? ops.filter(function (d) {
          return d.name && d.name.value === params.operationName;
        })[0]
      : ops[0];
    return !!op && op.operation === "subscription";
  }

  // What the page knows of the token, for refetching the schema once a good one is pasted.
  var schema = { loaded: false, refetch: null, triedWith: null };

  // Set by App: a new tab's Headers get the token that last worked, so it is pasted once.
  var rememberToken = function () {};

  function tokenWorks(auth) {
    rememberToken(auth);
    var c = claims(auth.replace(/^Bearer\s+/i, ""));
    var who = c && c.role ? " (" + c.role + (c.agency ? ", " + c.agency : "") + ")" : "";
    var until =
      c && c.exp ? new Date(c.exp * 1000).toLocaleString("vi-VN") : null;
    say(
      "ok",
      "Token hợp lệ" + who + (until ? ", hết hạn " + until : ""),
      "token accepted" + who
    );
    if (!schema.loaded && schema.refetch && schema.triedWith !== auth) {
      schema.triedWith = auth;
      schema.refetch();
    }
  }

  /** Queries and mutations: POST /graphql with the Headers tab's headers. */
  function post(params, headers, auth, introspection) {
    var sent = Object.assign(
      // application/json rather than application/graphql-response+json: a query with an error
      // is then a 200 with `errors`, which GraphiQL shows, instead of a 400 the browser logs.
      { "Content-Type": "application/json", Accept: "application/json" },
      headers
    );
    return fetch(HTTP_URL, {
      method: "POST",
      headers: sent,
      body: JSON.stringify(params),
      credentials: "omit",
    }).then(function (res) {
      return res.text().then(function (text) {
        var body;
        try {
          body = JSON.parse(text);
        } catch (e) {
          body = refusal("HTTP " + res.status + ": " + text.slice(0, 200), "HTTP_" + res.status);
        }
        if (res.status === 401) {
          var why = body && body.errors && body.errors[0] ? body.errors[0].message : "";
          say(
            "error",
            "Token bị từ chối (401): " + why + ". Hãy dán token khác vào tab Headers",
            "the token was refused (401): paste another one into the Headers tab"
          );
        } else if (res.ok) {
          if (introspection && body && body.data) schema.loaded = true;
          tokenWorks(auth);
        }
        return body;
      });
    });
  }

  // One graphql-ws client at a time, for one Authorization value; a new token gets a new one.
  var socket = null;

  function client(auth) {
    if (socket && socket.auth === auth) return socket.client;
    if (socket) socket.client.dispose();
    socket = {
      auth: auth,
      client: graphqlWs.createClient({
        url: WS_URL,
        // chidao reads the token from connection_init's payload.
        connectionParams: { Authorization: auth },
        lazy: true,
        // A refused token closes the socket with the reason: show it rather than retry.
        retryAttempts: 0,
      }),
    };
    return socket.client;
  }

  /**
   * What graphql-ws reports, as GraphQL errors for GraphiQL to show (plain objects: GraphiQL
   * prints an Error's stack too).
   */
  function socketError(e) {
    if (Array.isArray(e)) return e;
    if (e && typeof e.code === "number" && "reason" in e) {
      return [
        {
          message:
            "WebSocket /graphql/ws đóng (closed, " + e.code + ")" + (e.reason ? ": " + e.reason : ""),
          extensions: { closeCode: e.code },
        },
      ];
    }
    return [
      {
        message:
          "WebSocket /graphql/ws: không kết nối được (could not connect)" +
          (e && e.message ? ": " + e.message : ""),
      },
    ];
  }

  /** Subscriptions: an observable over the socket, which GraphiQL subscribes to. */
  function subscribe(params, auth) {
    return {
      subscribe: function (sink) {
        var stop = client(auth).subscribe(
          {
            query: params.query,
            variables: params.variables || undefined,
            operationName: params.operationName || undefined,
          },
          {
            next: function (value) {
              tokenWorks(auth);
              sink.next(value);
            },
            error: function (e) {
              sink.error(socketError(e));
            },
            complete: function () {
              sink.complete();
            },
          }
        );
        return { unsubscribe: stop };
      },
    };
  }

  function fetcher(params, opts) {
    var headers = (opts && opts.headers) || {};
    var introspection = params.operationName === "IntrospectionQuery";
    var auth = authorization(headers);
    if (auth.problem) {
      say("warn", auth.problem);
      if (introspection) {
        return Promise.resolve(
          refusal(
            "Docs cần token để tải schema: dán token vào tab Headers, schema sẽ tự tải lại. " +
              "Docs needs a token to load the schema: paste one into the Headers tab and the " +
              "schema loads by itself."
          )
        );
      }
      return Promise.resolve(refusal(auth.problem));
    }
    if (isSubscription(params)) return subscribe(params, auth.value);
    return post(params, headers, auth.value, introspection);
  }

  /**
   * Rendered in GraphiQL's toolbar, inside its context: keeps a handle on "fetch the schema
   * again", and uses it when the Headers tab gets a token that looks real. GraphiQL 3 fetches
   * the schema once, when it starts (with the placeholder, so without a token); it does not
   * fetch it again when the headers change.
   */
  function SchemaWatcher() {
    var ctx = GraphiQL.React.useSchemaContext({ nonNull: true });
    var editors = GraphiQL.React.useEditorContext({ nonNull: true });
    schema.loaded = !!ctx.schema;
    schema.refetch = ctx.introspect;
    var headerEditor = editors.headerEditor;
    React.useEffect(
      function () {
        if (!headerEditor) return undefined;
        var timer = null;
        function changed() {
          clearTimeout(timer);
          timer = setTimeout(function () {
            var parsed;
            try {
              parsed = JSON.parse(headerEditor.getValue() || "{}");
            } catch (e) {
              say("warn", "Tab Headers chưa phải JSON hợp lệ", "the Headers tab is not valid JSON yet");
              return;
            }
            var auth = authorization(parsed);
            if (auth.problem) {
              say("warn", auth.problem);
              return;
            }
            if (!schema.loaded && schema.triedWith !== auth.value) {
              schema.triedWith = auth.value;
              say("warn", "Đang tải schema với token vừa dán…", "loading the schema with the pasted token…");
              schema.refetch();
            }
          }, 400);
        }
        headerEditor.on("change", changed);
        return function () {
          clearTimeout(timer);
          headerEditor.off("change", changed);
        };
      },
      [headerEditor]
    );
    return null;
  }

  function App() {
    var state = React.useState(HEADERS);
    var newTabHeaders = state[0];
    var setNewTabHeaders = state[1];
    rememberToken = function (auth) {
      setNewTabHeaders(JSON.stringify({ Authorization: auth }, null, 2));
    };
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      // The first tab's Headers, with the placeholder where the token goes.
      headers: HEADERS,
      defaultHeaders: newTabHeaders,
      // The Headers tab open, where the token goes.
      defaultEditorToolsVisibility: "headers",
      // Tokens stay out of localStorage (GraphiQL's default, said here on purpose).
      shouldPersistHeaders: false,
      toolbar: { additionalContent: React.createElement(SchemaWatcher) },
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
