// The victim's small web application behind nginx's /app/ (run as a script inside the victim
// namespace): a login form that answers 200 or 401, and a search page that reflects its query
// HTML-escaped. Usage: bun login-app-server.ts <config.json>
export interface LoginAppConfig {
  port: number;
  user: string;
  password: string;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function html(status: number, title: string, body: string, headers: Record<string, string> = {}): Response {
  const doc = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>\n`;
  return new Response(doc, { status, headers: { "content-type": "text/html; charset=utf-8", ...headers } });
}

const FORM = `<form method="post" action="/app/login">
<label>User <input name="user" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>`;

const CATALOGUE = ["network monitor", "firewall appliance", "backup storage", "router", "switch 24 port", "support plan", "vpn gateway", "wireless access point"];

function loginPage(): Response {
  return html(200, "Sign in", FORM);
}

async function login(req: Request, config: LoginAppConfig): Promise<Response> {
  let user = "";
  let password = "";
  try {
    const form = await req.formData();
    user = String(form.get("user") ?? "");
    password = String(form.get("password") ?? "");
  } catch {
    // A malformed body is an ordinary failed log-in.
  }
  if (user === config.user && password === config.password) {
    const session = crypto.randomUUID();
    return html(200, "Welcome", `<p>Welcome back, ${escapeHtml(user)}.</p><p><a href="/">Home</a></p>`, {
      "set-cookie": `session=${session}; Path=/app/; HttpOnly; SameSite=Lax`,
    });
  }
  return html(401, "Sign in", `<p class="error">Invalid user name or password.</p>${FORM}`);
}

function search(url: URL): Response {
  const q = url.searchParams.get("q") ?? "";
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const hits = CATALOGUE.filter((item) => words.some((w) => item.includes(w)));
  const list = hits.map((h) => `<li>${escapeHtml(h)}</li>`).join("");
  return html(200, "Search", `<p>Results for <b>${escapeHtml(q)}</b>: ${hits.length}</p><ul>${list}</ul>
<form action="/app/search"><input name="q" value="${escapeHtml(q)}"><button>Search</button></form>`);
}

export function serveLoginApp(config: LoginAppConfig): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: config.port,
    async fetch(req) {
      const url = new URL(req.url);
      const path = url.pathname.replace(/\/+$/, "") || "/";
      if (path === "/app" && req.method === "GET") return new Response(null, { status: 302, headers: { location: "/app/login" } });
      if (path === "/app/login" && req.method === "GET") return loginPage();
      if (path === "/app/login" && req.method === "POST") return login(req, config);
      if (path === "/app/search" && (req.method === "GET" || req.method === "HEAD")) return search(url);
      return html(404, "Not found", "<p>The page does not exist.</p>");
    },
  });
}

if (import.meta.main) {
  const configPath = process.argv[2];
  if (!configPath) throw new Error("usage: login-app-server.ts <config.json>");
  const config = (await Bun.file(configPath).json()) as LoginAppConfig;
  const server = serveLoginApp(config);
  console.log(`login app listening on ${server.hostname}:${server.port}`);
}
