// link-relay: a user-space link emulator for the testbed (this kernel has no netem). It forwards
// Ethernet frames between two interfaces (AF_PACKET raw sockets, one per interface), holds each
// frame for delay +- jitter and drops a seeded fraction, in both directions independently with
// the same parameters. Rate limits are not done here: tbf on the egress of either interface.
//
//   link-relay --a IF --b IF [--delay-ms D] [--jitter-ms J] [--dist uniform|normal]
//              [--loss-pct P] [--seed N] [--reorder] [--limit FRAMES] [--rt-priority N]
//              --time-limit-s S
//
// It prints "ready" on stderr once both sockets are bound, and one JSON line of counters on
// stdout when it ends: on SIGTERM/SIGINT, at the time limit, when an interface disappears (its
// veth peer's namespace was deleted) or when its parent dies.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VNET_LEN ((int)sizeof(struct virtio_net_hdr))
// A GSO frame (should one get through) can be 64 KiB; the vnet header says how to segment it.
#define MAX_FRAME (65536 + 256)
#define BATCH 32

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// xoshiro256** seeded by splitmix64: small, fast, and the same sequence for the same seed.
struct rng { uint64_t s[4]; };
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static void rng_seed(struct rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t rng_next(struct rng *r) {
  uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
  return out;
}
// Uniform in [0, 1) with 53 random bits.
static double rng_unit(struct rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

struct frame {
  uint64_t due, seq;
  uint32_t len;  // bytes in data: the vnet header, then the Ethernet frame
  unsigned char data[];
};

// A binary min-heap on (due, seq): the time-ordered queue. seq breaks ties, so frames due at the
// same nanosecond leave in arrival order.
struct heap { struct frame **v; size_t n, cap; };
static int before(const struct frame *x, const struct frame *y) {
  return x->due < y->due || (x->due == y->due && x->seq < y->seq);
}
static int heap_push(struct heap *h, struct frame *f) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 1024;
    struct frame **v = realloc(h->v, cap * sizeof *v);
    if (!v) return -1;
    h->v = v; h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!before(f, h->v[p])) break;
    h->v[i] = h->v[p]; i = p;
  }
  h->v[i] = f;
  return 0;
}
static struct frame *heap_pop(struct heap *h) {
  struct frame *top = h->v[0], *last = h->v[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && before(h->v[c + 1], h->v[c])) c++;
    if (!before(h->v[c], last)) break;
    h->v[i] = h->v[c]; i = c;
  }
  if (h->n) h->v[i] = last;
  return top;
}

struct stats {
  uint64_t rx, forwarded, lost, overflow, tx_dropped, oversize, flushed, bytes, socket_drops;
  uint64_t max_queue, late_max_ns, late_sum_ns;
};

struct dir {
  const char *name;
  int in_fd, out_fd;
  struct heap q;
  struct rng rng;
  uint64_t last_due, seq;
  struct stats st;
};

static struct {
  double delay_ns, jitter_ns, loss;  // loss as a fraction
  int normal, reorder;
  size_t limit;
} cfg = { .limit = 10000 };

static int gone;  // an interface disappeared: nothing more can be relayed

static int open_port(const char *ifname) {
  unsigned idx = if_nametoindex(ifname);
  if (!idx) { fprintf(stderr, "link-relay: no interface %s: %s\n", ifname, strerror(errno)); exit(2); }
  // Protocol 0 until bind: a socket opened with ETH_P_ALL would see every interface's frames
  // between socket() and bind().
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { perror("link-relay: socket"); exit(2); }
  int one = 1, big = 16 << 20;
  // vnet header: checksum-offload state (CHECKSUM_PARTIAL from a veth peer) and GSO metadata
  // pass through untouched, so the relay is as transparent as a plain veth. Without it a frame
  // with a partial checksum would be re-sent as a complete one with a wrong checksum.
  if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) { perror("link-relay: PACKET_VNET_HDR"); exit(2); }
  // auxdata: a VLAN tag the veth moved into metadata is put back into the frame.
  if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) { perror("link-relay: PACKET_AUXDATA"); exit(2); }
  // The kernel's receive time of each frame: a frame's delay runs from when it arrived, not from
  // when the relay got round to reading it, so reads can wait (see the main loop).
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) { perror("link-relay: SO_TIMESTAMPNS"); exit(2); }
  // Never read back what this relay (or anything else) sends out of the interface.
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) { perror("link-relay: PACKET_IGNORE_OUTGOING"); exit(2); }
  // Large buffers: frames held by a tbf qdisc count against the send buffer, bursts against the
  // receive buffer. FORCE needs CAP_NET_ADMIN; fall back to the capped option.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)idx };
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("link-relay: bind"); exit(2); }
  // Frames for the far side's MAC address must be accepted too (a veth passes them anyway).
  struct packet_mreq mr = { .mr_ifindex = (int)idx, .mr_type = PACKET_MR_PROMISC };
  if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) { perror("link-relay: promiscuous"); exit(2); }
  return fd;
}

static double draw_delay(struct dir *d) {
  double x = cfg.delay_ns;
  if (cfg.jitter_ns > 0) {
    if (cfg.normal) {
      // Box-Muller, cut at 3 sigma so one frame can never be held for an unbounded time.
      double u1 = rng_unit(&d->rng), u2 = rng_unit(&d->rng);
      double z = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
      if (z > 3) z = 3;
      if (z < -3) z = -3;
      x += cfg.jitter_ns * z;
    } else {
      x += cfg.jitter_ns * (2.0 * rng_unit(&d->rng) - 1.0);
    }
  }
  return x < 0 ? 0 : x;
}

// Takes one received frame: drop it (loss, full queue) or queue it until its due time.
static void accept_frame(struct dir *d, unsigned char *buf, size_t len, const struct tpacket_auxdata *aux, uint64_t arrived) {
  d->st.rx++;
  // The loss draw comes first and is made for every frame, so which frames are lost depends only
  // on the seed and the frame sequence.
  if (cfg.loss > 0 && rng_unit(&d->rng) < cfg.loss) { d->st.lost++; return; }
  uint64_t due = arrived + (uint64_t)draw_delay(d);
  // A real link does not reorder: a frame never overtakes the one before it (so jitter only
  // stretches gaps), unless --reorder asks for independent per-frame delays like netem's.
  if (!cfg.reorder && due < d->last_due) due = d->last_due;
  if (d->q.n >= cfg.limit) { d->st.overflow++; return; }
  int vlan = aux && (aux->tp_status & TP_STATUS_VLAN_VALID) && len >= (size_t)VNET_LEN + 12;
  struct frame *f = malloc(sizeof *f + len + (vlan ? 4 : 0));
  if (!f) { d->st.overflow++; return; }
  if (vlan) {
    // Put the tag back after the two MAC addresses; offsets in the vnet header move by 4.
    uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid : ETH_P_8021Q;
    uint16_t tag[2] = { htons(tpid), htons(aux->tp_vlan_tci) };
    size_t head = VNET_LEN + 12;
    memcpy(f->data, buf, head);
    memcpy(f->data + head, tag, 4);
    memcpy(f->data + head + 4, buf + head, len - head);
    len += 4;
    struct virtio_net_hdr *vh = (struct virtio_net_hdr *)f->data;
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) vh->csum_start += 4;
    if (vh->hdr_len) vh->hdr_len += 4;
  } else {
    memcpy(f->data, buf, len);
  }
  f->len = (uint32_t)len;
  f->due = due;
  f->seq = d->seq++;
  if (heap_push(&d->q, f) < 0) { free(f); d->st.overflow++; return; }
  d->last_due = due;
  if (d->q.n > d->st.max_queue) d->st.max_queue = d->q.n;
}

static unsigned char bufs[BATCH][MAX_FRAME];
static char cbufs[BATCH][CMSG_SPACE(sizeof(struct tpacket_auxdata)) + CMSG_SPACE(sizeof(struct timespec))] __attribute__((aligned(8)));

// realtime - monotonic, from the tightest of three readings: a reading split by a preemption
// would shift every arrival by as much and let frames leave early.
static int64_t real_minus_mono(void) {
  int64_t best = 0;
  uint64_t span = UINT64_MAX;
  for (int i = 0; i < 3; i++) {
    struct timespec r;
    uint64_t m1 = now_ns();
    clock_gettime(CLOCK_REALTIME, &r);
    uint64_t m2 = now_ns();
    if (m2 - m1 < span) {
      span = m2 - m1;
      best = (int64_t)((uint64_t)r.tv_sec * 1000000000ull + (uint64_t)r.tv_nsec) - (int64_t)(m1 + (m2 - m1) / 2);
    }
  }
  return best;
}

// A kernel receive time (CLOCK_REALTIME) on the monotonic clock. Anything implausible (no
// stamp, in the future, over a second old) is taken as "now".
static uint64_t arrival_ns(const struct timespec *rx, uint64_t mono_now, int64_t offset) {
  if (!rx) return mono_now;
  uint64_t mono = (uint64_t)((int64_t)((uint64_t)rx->tv_sec * 1000000000ull + (uint64_t)rx->tv_nsec) - offset);
  if (mono > mono_now || mono_now - mono > 1000000000ull) return mono_now;
  return mono;
}

static int is_gone_errno(int e) { return e == ENETDOWN || e == ENXIO || e == ENODEV; }

// Reads what is waiting on d's input, a bounded number of batches so releases are not starved;
// returns 1 when it stopped at the bound (more may be waiting).
static int drain(struct dir *d) {
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  for (int round = 0; round < 8; round++) {
    for (int i = 0; i < BATCH; i++) {
      iov[i] = (struct iovec){ bufs[i], MAX_FRAME };
      msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1, .msg_control = cbufs[i], .msg_controllen = sizeof cbufs[i] };
    }
    int n = recvmmsg(d->in_fd, msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (n < 0) {
      if (is_gone_errno(errno)) gone = 1;
      return 0;
    }
    int64_t offset = real_minus_mono();
    uint64_t mono = now_ns();
    for (int i = 0; i < n; i++) {
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC || msgs[i].msg_len > MAX_FRAME) { d->st.rx++; d->st.oversize++; continue; }
      const struct tpacket_auxdata *aux = NULL;
      const struct timespec *rx = NULL;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
        if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) aux = (const struct tpacket_auxdata *)CMSG_DATA(c);
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) rx = (const struct timespec *)CMSG_DATA(c);
      }
      if (msgs[i].msg_len < (unsigned)VNET_LEN + ETH_HLEN) continue;
      accept_frame(d, bufs[i], msgs[i].msg_len, aux, arrival_ns(rx, mono, offset));
    }
    if (n < BATCH) return 0;
  }
  return 1;
}

// Sends every frame whose due time has come, a batch per system call.
static void release(struct dir *d, uint64_t now) {
  struct frame *out[BATCH];
  struct mmsghdr m[BATCH];
  struct iovec iov[BATCH];
  while (d->q.n && d->q.v[0]->due <= now) {
    int n = 0;
    for (; n < BATCH && d->q.n && d->q.v[0]->due <= now; n++) {
      struct frame *f = out[n] = heap_pop(&d->q);
      uint64_t late = now - f->due;
      if (late > d->st.late_max_ns) d->st.late_max_ns = late;
      d->st.late_sum_ns += late;
      iov[n] = (struct iovec){ f->data, f->len };
      // Bound socket: no address needed.
      m[n].msg_hdr = (struct msghdr){ .msg_iov = &iov[n], .msg_iovlen = 1 };
    }
    for (int i = 0; i < n;) {
      int r = sendmmsg(d->out_fd, m + i, (unsigned)(n - i), MSG_DONTWAIT);
      if (r <= 0) {
        // The frame at i was refused: ENOBUFS is a full qdisc (the rate limiter's tail drop),
        // EAGAIN a full send buffer; both are the link dropping it. Go on with the next.
        if (r < 0 && is_gone_errno(errno)) gone = 1;
        d->st.tx_dropped++;
        i++;
        continue;
      }
      for (int k = i; k < i + r; k++) { d->st.forwarded++; d->st.bytes += out[k]->len - VNET_LEN; }
      i += r;
    }
    for (int k = 0; k < n; k++) free(out[k]);
  }
}

static void print_dir(const char *key, struct dir *d) {
  while (d->q.n) { free(heap_pop(&d->q)); d->st.flushed++; }
  // Frames the kernel dropped because the receive buffer was full: the relay fell behind.
  struct tpacket_stats ks;
  socklen_t kl = sizeof ks;
  if (getsockopt(d->in_fd, SOL_PACKET, PACKET_STATISTICS, &ks, &kl) == 0) d->st.socket_drops = ks.tp_drops;
  const struct stats *s = &d->st;
  uint64_t sent = s->forwarded + s->tx_dropped;
  printf("\"%s\":{\"rx\":%llu,\"forwarded\":%llu,\"bytes\":%llu,\"lost\":%llu,\"overflow\":%llu,\"tx_dropped\":%llu,"
         "\"oversize\":%llu,\"socket_drops\":%llu,\"flushed\":%llu,\"max_queue\":%llu,\"late_max_us\":%.1f,\"late_mean_us\":%.1f}",
         key, (unsigned long long)s->rx, (unsigned long long)s->forwarded, (unsigned long long)s->bytes,
         (unsigned long long)s->lost, (unsigned long long)s->overflow, (unsigned long long)s->tx_dropped,
         (unsigned long long)s->oversize, (unsigned long long)s->socket_drops, (unsigned long long)s->flushed, (unsigned long long)s->max_queue,
         s->late_max_ns / 1e3, sent ? s->late_sum_ns / 1e3 / (double)sent : 0.0);
}

static void usage(void) {
  fprintf(stderr, "usage: link-relay --a IF --b IF [--delay-ms D] [--jitter-ms J] [--dist uniform|normal] "
                  "[--loss-pct P] [--seed N] [--reorder] [--limit FRAMES] [--rt-priority N] --time-limit-s S\n");
  exit(2);
}

static double num(const char *opt, const char *s, double lo, double hi) {
  char *end;
  double v = strtod(s, &end);
  if (*s == 0 || *end != 0 || !(v >= lo && v <= hi)) { fprintf(stderr, "link-relay: --%s %s: expected a number in [%g, %g]\n", opt, s, lo, hi); exit(2); }
  return v;
}

int main(int argc, char **argv) {
  const char *ia = NULL, *ib = NULL;
  double limit_s = 0;
  int rt_prio = 0;
  uint64_t seed = 1;
  static const struct option opts[] = {
    { "a", required_argument, 0, 'a' }, { "b", required_argument, 0, 'b' },
    { "delay-ms", required_argument, 0, 'd' }, { "jitter-ms", required_argument, 0, 'j' },
    { "dist", required_argument, 0, 'D' }, { "loss-pct", required_argument, 0, 'l' },
    { "seed", required_argument, 0, 's' }, { "reorder", no_argument, 0, 'r' },
    { "limit", required_argument, 0, 'L' }, { "time-limit-s", required_argument, 0, 't' },
    { "rt-priority", required_argument, 0, 'p' },
    { 0, 0, 0, 0 },
  };
  for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    switch (c) {
      case 'a': ia = optarg; break;
      case 'b': ib = optarg; break;
      case 'd': cfg.delay_ns = num("delay-ms", optarg, 0, 60000) * 1e6; break;
      case 'j': cfg.jitter_ns = num("jitter-ms", optarg, 0, 60000) * 1e6; break;
      case 'D':
        if (!strcmp(optarg, "normal")) cfg.normal = 1;
        else if (strcmp(optarg, "uniform")) usage();
        break;
      case 'l': cfg.loss = num("loss-pct", optarg, 0, 100) / 100.0; break;
      case 's': seed = (uint64_t)num("seed", optarg, 0, 9007199254740991.0); break;
      case 'r': cfg.reorder = 1; break;
      case 'L': cfg.limit = (size_t)num("limit", optarg, 1, 1e7); break;
      case 't': limit_s = num("time-limit-s", optarg, 0.001, 7 * 86400); break;
      case 'p': rt_prio = (int)num("rt-priority", optarg, 0, 99); break;
      default: usage();
    }
  }
  // A time limit is required: the relay must end even if nobody ever signals it.
  if (!ia || !ib || optind != argc || limit_s <= 0) usage();

  // End with the parent (the testbed) rather than outlive it; check for a parent already gone.
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) return 0;

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) { perror("link-relay: signalfd"); return 2; }
  // Release times are precise to the timer's slack; the default 50 us is more than needed.
  prctl(PR_SET_TIMERSLACK, 1000UL);
  // On a busy machine a normal task can wait milliseconds for a CPU after its timer fires, and
  // every frame it holds is that much late. A real-time priority runs it at once; the kernel's
  // RT throttling (95 % by default) still bounds what a flooded relay can take.
  if (rt_prio > 0) {
    struct sched_param sp = { .sched_priority = rt_prio };
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) fprintf(stderr, "link-relay: SCHED_FIFO %d: %s (running without)\n", rt_prio, strerror(errno));
  }

  int fa = open_port(ia), fb = open_port(ib);
  struct dir ab = { .name = "a_to_b", .in_fd = fa, .out_fd = fb }, ba = { .name = "b_to_a", .in_fd = fb, .out_fd = fa };
  // Each direction has its own stream, so one direction's traffic never shifts the other's draws.
  rng_seed(&ab.rng, seed * 2 + 0);
  rng_seed(&ba.rng, seed * 2 + 1);
  fprintf(stderr, "ready\n");

  uint64_t start = now_ns(), deadline = start + (uint64_t)(limit_s * 1e9);
  const char *reason = "time-limit";
  // The shortest delay any frame can get. A frame that arrives while the relay sleeps is due no
  // earlier than that after its arrival, so while frames are queued (wake-ups for releases are
  // coming anyway) the relay need not wake for each arrival: it reads on its next wake-up, at most
  // that long (and 10 ms, to bound the socket backlog) away. Halves the wake-ups on a busy link.
  double dmin = cfg.delay_ns - (cfg.normal ? 3 : 1) * cfg.jitter_ns;
  uint64_t lazy = dmin >= 200e3 ? (uint64_t)(dmin < 10e6 ? dmin : 10e6) : 0;
  struct pollfd pfd[3] = { { .fd = fa }, { .fd = fb }, { .fd = sfd, .events = POLLIN } };
  int more = 0;
  for (;;) {
    uint64_t now = now_ns();
    release(&ab, now);
    release(&ba, now);
    if (gone) { reason = "interface-gone"; break; }
    if (now >= deadline) break;
    uint64_t wake = deadline;
    if (ab.q.n && ab.q.v[0]->due < wake) wake = ab.q.v[0]->due;
    if (ba.q.n && ba.q.v[0]->due < wake) wake = ba.q.v[0]->due;
    int idle = !ab.q.n && !ba.q.n;
    if (!idle && lazy && now + lazy < wake) wake = now + lazy;
    // Errors (POLLERR, POLLHUP) are reported even with no events asked for.
    short ev = (idle || !lazy) ? POLLIN : 0;
    pfd[0].events = pfd[1].events = ev;
    uint64_t wait = more ? 0 : wake > now ? wake - now : 0;
    struct timespec ts = { .tv_sec = (time_t)(wait / 1000000000ull), .tv_nsec = (long)(wait % 1000000000ull) };
    int n = ppoll(pfd, 3, &ts, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("link-relay: ppoll");
      reason = "error";
      break;
    }
    if (pfd[2].revents & POLLIN) { reason = "signal"; break; }
    // An error on a packet socket is its interface going away (ENETDOWN from the notifier).
    if ((pfd[0].revents | pfd[1].revents) & (POLLERR | POLLHUP | POLLNVAL)) { reason = "interface-gone"; break; }
    // Read both inputs on every wake-up: a non-blocking read of an empty socket is cheap, a
    // wake-up is not.
    more = drain(&ab);
    more |= drain(&ba);
  }

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"reason\":\"%s\",\"a\":\"%s\",\"b\":\"%s\",\"elapsed_s\":%.3f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,", reason, ia, ib,
         (now_ns() - start) / 1e9, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
  print_dir("a_to_b", &ab);
  putchar(',');
  print_dir("b_to_a", &ba);
  printf("}\n");
  fflush(stdout);
  return 0;
}
