// Package fifo moves a container's stdio between processes and files.
//
// It has three parts:
//
//   - FIFO sets: [NewSet] creates the named pipes a client hands to a shim
//     (ID-stdin, ID-stdout, ID-stderr, as containerd's CRI names them);
//     [OpenReader], [OpenWriter] and [Set.Open] open them without blocking
//     the caller until the peer appears.
//   - Copiers, for the shim side: [Copier] copies a process' output pipe to a
//     destination and can [Copier.Drain] it, so an exit is reported only
//     after the output written before the exit is copied out, even when a
//     background grandchild keeps the pipe open. [StdinCopier] feeds a
//     process' stdin from a FIFO and closes it only when asked.
//     [OpenOutput] opens a FIFO for the shim's output so a departing reader
//     never breaks the copy.
//   - The kubelet CRI log format: [LogWriter] writes
//     "TIMESTAMP STREAM TAG CONTENT" records with 16 KiB partial lines, and
//     [ParseLine] reads them back. [ConfinedPath] checks a log path that
//     must stay inside the pod's log directory; [OpenLogIn],
//     [OpenLogReader] and [OpenLogURI] (crilog:// names, [CRILogURI]) then
//     open it beneath that directory in one step at every open, so a
//     directory swapped for a symlink later cannot redirect the log.
//
// The package imports nothing else of runlet's.
package fifo
