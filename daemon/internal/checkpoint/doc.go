// Package checkpoint writes container checkpoint archives in the format
// containerd's and CRI-O's CheckpointContainer write and checkpointctl
// reads: an uncompressed tar holding
//
//	checkpoint/      CRIU's images of the processes (from the runtime)
//	config.dump      Config: id, name, image, runtime, times
//	spec.dump        the container's OCI spec
//	status.dump      the CRI ContainerStatus, JSON
//	rootfs-diff.tar  the container's changes to its image (overlay upper
//	                 directory), without whiteouts
//	deleted.files    JSON list of the image paths the container removed
//	container.log    the CRI log, when there is one
//	dump.log, stats-dump  CRIU's log and statistics, when it wrote them
//
// A Stage is the directory an archive is assembled in; Archive writes it to
// its destination whole or not at all.
package checkpoint
