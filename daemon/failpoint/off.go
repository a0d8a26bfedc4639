//go:build !failpoints

package failpoint

// Hit does nothing: this build honours no failpoint.
func Hit(string) {}
