package shims

import "github.com/runlet/runlet/shims/oci"

// Publisher forwards a task event to the daemon under a topic such as
// "/tasks/exit". It is the OCI service's own interface, named here too so
// a service written from scratch needs only this package.
type Publisher = oci.Publisher
