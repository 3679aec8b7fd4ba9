// The victim's static web site, generated into the work directory: HTML pages of varied size
// that link to each other, a style sheet, a script, images, and downloads of several sizes
// (random bytes, so compression cannot shrink the transfer).
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface WebContent {
  /** Document root. */
  root: string;
  /** URL paths of pages and their assets. */
  pages: string[];
  /** URL paths of the downloads, smallest first. */
  downloads: string[];
}

const WORDS = (
  "network traffic packet flow monitoring service server client request response latency throughput " +
  "release update security policy firewall gateway storage backup archive customer order invoice product " +
  "catalogue support ticket report quarterly team office schedule meeting project roadmap feature design"
).split(" ");

/** Deterministic filler text, so every run serves the same bytes. */
function paragraph(seed: number, words: number): string {
  const out: string[] = [];
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < words; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(WORDS[x % WORDS.length]!);
  }
  const text = out.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1) + ".";
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${title} - Example Corp</title>
<link rel="stylesheet" href="/static/style.css"><script src="/static/app.js" defer></script></head>
<body><header><img src="/static/logo.svg" alt="Example Corp"><nav>
<a href="/">Home</a> <a href="/products.html">Products</a> <a href="/blog/">Blog</a>
<a href="/docs/manual.html">Docs</a> <a href="/about.html">About</a> <a href="/app/login">Sign in</a></nav></header>
<main><h1>${title}</h1>
${body}
</main><footer>&copy; Example Corp</footer></body></html>
`;
}

function paragraphs(seed: number, count: number, words: number): string {
  return Array.from({ length: count }, (_, i) => `<p>${paragraph(seed + i, words)}</p>`).join("\n");
}

function productTable(rows: number): string {
  const lines = Array.from({ length: rows }, (_, i) => `<tr><td>SKU-${1000 + i}</td><td>${paragraph(i, 4)}</td><td>${(9.99 + i * 3.5).toFixed(2)}</td></tr>`);
  return `<table><tr><th>SKU</th><th>Product</th><th>Price</th></tr>\n${lines.join("\n")}\n</table>`;
}

const DOWNLOAD_SIZES: [string, number][] = [
  ["file-1k.bin", 1024],
  ["file-64k.bin", 64 * 1024],
  ["file-1m.bin", 1024 * 1024],
  ["file-8m.bin", 8 * 1024 * 1024],
];

export function generateWebContent(root: string): WebContent {
  const files: Record<string, string | Uint8Array> = {
    "/index.html": page("Welcome", paragraphs(1, 6, 60)),
    "/about.html": page("About us", paragraphs(20, 12, 80)),
    "/products.html": page("Products", productTable(300)),
    "/blog/index.html": page("Blog", paragraphs(40, 20, 70)),
    "/blog/network-monitoring-basics.html": page("Network monitoring basics", paragraphs(70, 60, 110)),
    "/docs/manual.html": page("User manual", paragraphs(200, 250, 90)),
    "/static/style.css": "body{font-family:sans-serif;margin:0}header{background:#234;color:#fff;padding:1em}\n".repeat(50),
    "/static/app.js": `// site script\n${Array.from({ length: 400 }, (_, i) => `function widget${i}(el){return el&&el.dataset&&el.dataset.v${i};}`).join("\n")}\n`,
    "/static/logo.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#234"/><text x="10" y="26" fill="#fff">Example</text></svg>\n`,
    "/images/banner.jpg": randomBytes(96 * 1024),
    "/images/team.jpg": randomBytes(180 * 1024),
  };
  for (const [name, size] of DOWNLOAD_SIZES) files[`/downloads/${name}`] = randomBytes(size);
  for (const [urlPath, content] of Object.entries(files)) {
    const file = join(root, urlPath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  const pages = ["/", ...Object.keys(files).filter((p) => !p.startsWith("/downloads/") && p !== "/index.html")];
  return { root, pages, downloads: DOWNLOAD_SIZES.map(([name]) => `/downloads/${name}`) };
}
