// Test certificates made with openssl in a temp dir: a CA, a server and a client certificate it
// signed (for localhost and 127.0.0.1), and a "rogue" self-signed client certificate.
import type { TempDir } from "../core/util.ts";

export function makeCerts(dir: TempDir): void {
  const script = `set -e
cd ${dir.path}
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.crt -subj /CN=xids-test-ca -days 1 2>/dev/null
for who in server client; do
  openssl req $ec -keyout $who.key -out $who.csr -subj /CN=$who 2>/dev/null
  printf "subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n" > $who.ext
  openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt -days 1 -extfile $who.ext 2>/dev/null
done
# A client certificate from a CA the server does not trust.
openssl req -x509 $ec -keyout rogue.key -out rogue.crt -subj /CN=rogue -days 1 2>/dev/null`;
  const r = Bun.spawnSync(["bash", "-c", script]);
  if (r.exitCode !== 0) throw new Error(`openssl failed: ${r.stderr.toString()}`);
}
