// Package failpoint names the steps of runletd's state-changing calls at
// which a test build can kill the daemon, to prove that every step is
// crash-safe (ARCHITECTURE.md, "Reliability contract").
//
// Only a runletd built with the build tag "failpoints" honours them: it
// reads RUNLET_FAILPOINT (one step name) once at start and, when a call
// reaches that step, logs the step to stderr and kills itself with
// SIGKILL, as a crash or the OOM killer would. Every other build compiles
// Hit to nothing.
package failpoint

// Env is the variable a failpoints build reads the step to crash at from.
const Env = "RUNLET_FAILPOINT"

// The named steps. Each is reached right after the side effect it names
// (or, for the record steps, right before the store record is written).
const (
	PodReserved       = "pod/reserved"        // record and name written
	PodFiles          = "pod/files"           // hostname, hosts, resolv.conf, shm made
	PodNetNS          = "pod/netns"           // network namespace pinned
	PodCNI            = "pod/cni"             // CNI ADD done (lease, portmap rules)
	PodBundle         = "pod/bundle"          // pause bundle written
	PodSnapshot       = "pod/snapshot"        // pause rootfs snapshot prepared
	PodShim           = "pod/shim"            // the pod's shim started
	PodTaskCreated    = "pod/task-created"    // the pause task created
	PodTaskStarted    = "pod/task-started"    // the pause task started, record not yet ready
	PodStopContainers = "pod/stop-containers" // StopPodSandbox: the pod's containers stopped
	PodStopTask       = "pod/stop-task"       // StopPodSandbox: pause task and shim gone
	PodStopNetwork    = "pod/stop-network"    // StopPodSandbox: CNI DEL done, netns removed
	PodRemoveCtrs     = "pod/remove-containers"
	PodRemoveFiles    = "pod/remove-files" // RemovePodSandbox: files, bundle, snapshot gone; record left

	CtrReserved     = "container/reserved"      // record and name written
	CtrSnapshot     = "container/snapshot"      // rootfs snapshot prepared
	CtrVolumes      = "container/volumes"       // image and declared volumes made
	CtrStdio        = "container/stdio"         // FIFOs made
	CtrBundle       = "container/bundle"        // bundle written
	CtrTaskCreated  = "container/task-created"  // the task created in the pod's shim
	CtrTaskStarted  = "container/task-started"  // StartContainer: task started, record not yet running
	CtrKilled       = "container/killed"        // StopContainer: stop signal sent
	CtrTaskDeleted  = "container/task-deleted"  // RemoveContainer: task deleted
	CtrFilesRemoved = "container/files-removed" // RemoveContainer: bundle, volumes, snapshot gone; record left

	ImageBlobs    = "image/blobs"    // PullImage: manifest, config and layer blobs fetched
	ImageUnpacked = "image/unpacked" // PullImage: layers unpacked, record not yet written
)

// Steps lists every named step, for tests that crash at each.
var Steps = []string{
	PodReserved, PodFiles, PodNetNS, PodCNI, PodBundle, PodSnapshot, PodShim, PodTaskCreated, PodTaskStarted,
	PodStopContainers, PodStopTask, PodStopNetwork, PodRemoveCtrs, PodRemoveFiles,
	CtrReserved, CtrSnapshot, CtrVolumes, CtrStdio, CtrBundle, CtrTaskCreated, CtrTaskStarted,
	CtrKilled, CtrTaskDeleted, CtrFilesRemoved,
	ImageBlobs, ImageUnpacked,
}
