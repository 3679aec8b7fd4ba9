// The victim's real services (Debian's nginx, OpenSSH server, vsftpd, iperf3, and small DNS and
// NTP servers of our own) run inside the
// victim namespace with configuration generated into a work directory; nothing listens in the
// host namespace. Each one is started in turn and must accept connections before the next;
// stop() kills every process started and removes what was written outside the work directory.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Netns } from "../harness/netns.ts";
import { DNS_PORT, NTP_PORT, startDnsNtp } from "./services/dns-ntp.ts";
import { startIperf, IPERF_PORT } from "./services/iperf.ts";
import { LOGIN_APP_PORT, startLoginApp } from "./services/login-app.ts";
import { HTTP_PORT, startNginx } from "./services/nginx.ts";
import type { ServiceProcess } from "./services/process.ts";
import { SSH_PORT, startSshd } from "./services/sshd.ts";
import { FTP_PORT, startVsftpd } from "./services/vsftpd.ts";
import { generateWebContent } from "./services/web-content.ts";

export interface VictimServices extends AsyncDisposable {
  web: {
    port: number;
    /** Static paths a browsing client may GET (pages and downloads of several sizes). */
    pages: string[];
    downloads: string[];
    /** Login form (GET shows it, POST user=&password= answers 200 or 401). */
    loginPath: string;
    /** Reflects q= (HTML-escaped): the target of XSS probes. */
    searchPath: string;
    user: string;
    password: string;
  };
  /** password: what guessing may try for root; root logs in with the key only, so it always fails. */
  ssh: { port: number; user: string; /** private key that logs in */ keyFile: string; password: string };
  ftp: {
    port: number;
    user: string;
    password: string;
    /** files a client may RETR */
    files: string[];
    /** FTP path of the writable directory (STOR), e.g. "/upload/". */
    uploadDir: string;
  };
  iperf: { port: number };
  stop(): Promise<void>;
}

// Fixed, strong-looking credentials: the point is whether guessing finds them, not secrecy.
const WEB_CREDENTIALS = { user: "alice", password: "Kx7#mPq2-vLr9!tZ" };
const FTP_CREDENTIALS = { user: "backup", password: "Fz4$wNe8-hTq3@cY" };
const SSH_ROOT_PASSWORD = "Rb2%jUd6-sMv5&kQ";

export interface VictimServiceOptions {
  /** Listen on IPv6 as well (an IPv6 star): nginx, sshd, vsftpd, iperf3, DNS and NTP. */
  ipv6?: boolean;
}

export async function startVictimServices(victim: Netns, workDir: string, log: (line: string) => void, opts: VictimServiceOptions = {}): Promise<VictimServices> {
  const ipv6 = opts.ipv6 ?? false;
  const also = ipv6 ? " (IPv4 and IPv6)" : "";
  const processes: ServiceProcess[] = [];
  const cleanups: (() => void)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await Promise.all(processes.map((p) => p.stop()));
      for (const cleanup of cleanups) cleanup();
    })();
    return stopping;
  };

  const dir = (name: string) => {
    const d = join(workDir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  try {
    const site = generateWebContent(dir("www"));
    processes.push(await startLoginApp(victim, dir("login-app"), WEB_CREDENTIALS.user, WEB_CREDENTIALS.password));
    // The login app stays on loopback in both families: clients reach it through nginx's /app/.
    processes.push(await startNginx(victim, dir("nginx"), site.root, LOGIN_APP_PORT, ipv6));
    log(`victim: nginx on :${HTTP_PORT} (${ipv6 ? "IPv4 and IPv6; " : ""}${site.pages.length} pages, ${site.downloads.length} downloads, /app/ login app)`);
    const sshd = await startSshd(victim, dir("sshd"), ipv6);
    processes.push(sshd.svc);
    log(`victim: sshd on :${SSH_PORT}${also}`);
    const ftp = await startVsftpd(victim, dir("vsftpd"), FTP_CREDENTIALS.user, FTP_CREDENTIALS.password, ipv6);
    processes.push(ftp.svc);
    cleanups.push(ftp.cleanup);
    log(`victim: vsftpd on :${FTP_PORT}${also}`);
    processes.push(await startIperf(victim, dir("iperf3"), ipv6));
    log(`victim: iperf3 on :${IPERF_PORT}${also}`);
    processes.push(await startDnsNtp(victim, dir("dns-ntp"), ipv6));
    log(`victim: dns on udp/tcp :${DNS_PORT}, ntp on udp :${NTP_PORT}${also}`);

    return {
      web: {
        port: HTTP_PORT,
        pages: site.pages,
        downloads: site.downloads,
        loginPath: "/app/login",
        searchPath: "/app/search",
        ...WEB_CREDENTIALS,
      },
      ssh: { port: SSH_PORT, user: "root", keyFile: sshd.clientKeyFile, password: SSH_ROOT_PASSWORD },
      ftp: { port: FTP_PORT, ...FTP_CREDENTIALS, files: ftp.files, uploadDir: ftp.uploadDir },
      iperf: { port: IPERF_PORT },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
