/*
 * pause: the sandbox's first process. It holds the pod's namespaces open,
 * reaps orphaned children, and exits 0 on SIGINT or SIGTERM.
 *
 * No libc: raw x86-64 syscalls, so the static binary is a few KiB.
 * Build: gcc -static -nostdlib -Os -fno-asynchronous-unwind-tables \
 *            -fno-stack-protector -Wl,--build-id=none -s -o pause csrc/pause.c
 */
#define SYS_rt_sigprocmask 14
#define SYS_wait4 61
#define SYS_exit_group 231
#define SYS_rt_sigtimedwait 128

#define SIGINT 2
#define SIGTERM 15
#define SIGCHLD 17
#define SIG_BLOCK 0
#define WNOHANG 1

typedef unsigned long u64;

static long sys4(long n, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static u64 bit(int sig) { return 1UL << (sig - 1); }

void _start(void)
{
	u64 set = bit(SIGINT) | bit(SIGTERM) | bit(SIGCHLD);
	sys4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, 0, sizeof(set));
	for (;;) {
		long sig = sys4(SYS_rt_sigtimedwait, (long)&set, 0, 0, sizeof(set));
		if (sig == SIGINT || sig == SIGTERM)
			sys4(SYS_exit_group, 0, 0, 0, 0);
		if (sig == SIGCHLD)
			while (sys4(SYS_wait4, -1, 0, WNOHANG, 0) > 0)
				;
	}
}
