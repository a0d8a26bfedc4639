// Package reliability proves runletd's reliability contract
// (ARCHITECTURE.md §6) end to end, black-box: a real runletd (and a
// failpoints build of it) driven over CRI gRPC and the real crictl, real
// shims, runc, crun, containerd's shim, CNI plugins and signals.
//
//   - every named crash step of a state-changing call: the retried call
//     succeeds and removing everything leaves nothing behind;
//   - SIGTERM, SIGINT and kill -9 of runletd never touch running pods;
//   - duplicate and concurrent calls have one effect and kill no shim;
//   - a pod whose shim dies has its containers exited with ShimDied;
//   - an OOM kill while runletd is down is reported after the restart;
//   - pod churn leaves no fds, threads, memory or host state behind
//     (RUNLET_CHURN_CYCLES sets the cycles; `make soak` runs 1000).
package reliability
