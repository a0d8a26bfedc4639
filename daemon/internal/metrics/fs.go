package metrics

// FS is a container's writable layer: its own usage and the filesystem
// that holds it.
type FS struct {
	Device                  string // the filesystem's source (e.g. /dev/sda1)
	Limit                   uint64 // the filesystem's size in bytes
	Usage                   uint64 // bytes the writable layer takes
	InodesTotal, InodesFree uint64
}
