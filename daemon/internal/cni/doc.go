// Package cni attaches runletd's pods to their network with CNI plugins,
// through libcni (github.com/containernetworking/cni).
//
// # Configuring CNI for runletd
//
// runletd reads two keys of its config file:
//
//	[network]
//	cni_bin_dirs = ["/usr/lib/cni"]   # where plugin binaries are looked up, in order
//	cni_conf_dir = "/etc/cni/net.d"   # where the network config is
//
// The network is the first file of cni_conf_dir, by name, among *.conf,
// *.conflist and *.json (the rule of kubelet and containerd: name files
// 10-foo.conflist, 20-bar.conflist, ... to choose). A .conflist is a plugin
// chain; a .conf or .json holds a single plugin. The plugins of Debian's
// containernetworking-plugins 1.1.1 speak CNI spec versions up to 1.0.0. A
// working chain for a single node, with host ports:
//
//	{
//	  "cniVersion": "1.0.0",
//	  "name": "runlet",
//	  "plugins": [
//	    {"type": "bridge", "bridge": "runlet0", "isGateway": true, "ipMasq": true,
//	     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]],
//	              "routes": [{"dst": "0.0.0.0/0"}]}},
//	    {"type": "portmap", "capabilities": {"portMappings": true}}
//	  ]
//	}
//
// Each pod gets its own network namespace (package netns), pinned under
// runletd's state directory with its loopback up; runletd then runs ADD of
// the chain with CNI_ARGS IgnoreUnknown=1, K8S_POD_NAMESPACE, K8S_POD_NAME,
// K8S_POD_INFRA_CONTAINER_ID and K8S_POD_UID, and hands the pod's CRI port
// mappings to plugins declaring the portMappings capability (and its
// annotations to those declaring io.kubernetes.cri.pod-annotations). The IPs
// on the pod's eth0, IPv4 first, are the pod's IPs in PodSandboxStatus.
// Stopping the pod runs DEL and removes the namespace. Host-network pods get
// neither a namespace nor CNI.
//
// With no config file (or no cni_conf_dir) pods get loopback only: they run,
// reach nothing but their own 127.0.0.1, and have no pod IP. The
// NetworkReady condition is then true with reason LoopbackOnly, so that
// runletd works out of the box. Note that kubelet then schedules pods before
// a CNI daemonset has written its config, and those pods stay loopback-only
// until recreated: on a cluster node, install the config before starting
// runletd. A config that does not parse, or names a plugin not in
// cni_bin_dirs, makes NetworkReady false with the file in the message, and
// pod creation fails until it is fixed. The directory is read afresh for
// every pod: a new or changed config applies to the next pod, with no
// restart.
//
// # Behaviour
//
// Setup runs ADD of the whole list; if a plugin fails or the plugin timeout
// (DefaultPluginTimeout, or the caller's earlier deadline) expires, it runs
// DEL before returning, so a failed Setup leaves no interface, IP lease or
// port rule behind. A second Setup of an attached pod is refused. ADD and
// DEL of one Network run one at a time: Debian 12's portmap fails when two
// first pods create its shared iptables chains at once.
//
// Teardown runs DEL with the config and arguments libcni cached at ADD
// (<cache dir>/results, /var/lib/cni by default), so it tears down what
// Setup made even after the config changed or broke. With nothing cached it
// runs DEL with the current config when that is usable, and otherwise does
// nothing, so a repeated stop never fails on a broken config. It is
// idempotent and works after the namespace is gone (CNI_NETNS is then empty,
// as the spec allows).
//
// Why re-read instead of watching: reading one directory and one small file
// costs microseconds, against milliseconds for executing plugins, and needs
// no goroutine, no inotify and no lock; Status is always current.
//
// Errors: invalid pod data is errdefs.ErrInvalidArgument, a broken config or
// missing plugin errdefs.ErrFailedPrecondition, an attached pod
// errdefs.ErrAlreadyExists, a plugin's own failure errdefs.ErrUnknown with
// its message, and an expired or cancelled context that context's error.
package cni
