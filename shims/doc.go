// Package shims is runlet's library for containerd shim v2 binaries.
//
// A shim binary is a thin main over Main: it parses containerd's shim flags
// and runs one of the shim's actions.
//
//	shim -namespace NS -address A -publish-binary B -id ID start    fork a server, print its address
//	shim -namespace NS -address A -publish-binary B -id ID -bundle DIR delete
//	shim -info                                                       print RuntimeInfo
//	shim -v                                                          print the version
//
// start speaks all three bootstrap generations of containerd (a raw address,
// the JSON reply of containerd 1.7 to 2.2, and the protobuf BootstrapParams /
// BootstrapResult of containerd 2.3 and later). The server it forks serves
// containerd.task.v2.Task and containerd.task.v3.Task over ttrpc on a
// filesystem socket in a 0700 directory, reaps orphaned processes as a child
// subreaper and forwards task events to the daemon at TTRPC_ADDRESS.
//
// The task service is pluggable: Config.NewService builds it. The default is
// package oci's service, which drives runc, crun or any runc-compatible OCI
// runtime through go-runc.
package shims
