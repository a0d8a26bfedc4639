// Package bundletest builds real OCI bundles for tests: a busybox-static
// root filesystem and a bundle around it with bundle.DefaultSpec, both
// removed again through t.Cleanup. It needs busybox-static on the host
// (Debian: apt-get install busybox-static) and skips the test without it.
package bundletest
