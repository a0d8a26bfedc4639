// Command runlet-shim-runc-v2 is runlet's containerd shim v2 for runc.
package main

import "github.com/runlet/runlet/shims"

func main() {
	shims.Main(shims.Config{Name: "runlet-shim-runc-v2", RuntimeBinary: "runc"})
}
