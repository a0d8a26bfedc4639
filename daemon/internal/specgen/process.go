package specgen

import (
	"path"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// processArgs applies Docker's rules, as containerd does: CRI command
// replaces the image Entrypoint and CRI args replace the image Cmd; when
// the CRI command is set the image Cmd is dropped too, and an Entrypoint of
// [""] means none. No command at all is invalid.
func processArgs(cfg *runtimeapi.ContainerConfig, img ImageConfig) ([]string, error) {
	command, args := cfg.GetCommand(), cfg.GetArgs()
	if len(command) == 0 {
		if len(args) == 0 {
			args = img.Cmd
		}
		if !(len(img.Entrypoint) == 1 && img.Entrypoint[0] == "") {
			command = img.Entrypoint
		}
	}
	if len(command) == 0 && len(args) == 0 {
		return nil, invalidf("command", "no command specified and the image has no entrypoint or cmd")
	}
	return append(append([]string(nil), command...), args...), nil
}

// mergeEnv returns base with each KEY=value of overrides replacing the
// entry of the same key in place, or appended when base has none.
func mergeEnv(base []string, overrides ...string) []string {
	out := append([]string(nil), base...)
	index := map[string]int{}
	for i, kv := range out {
		index[envKey(kv)] = i
	}
	for _, kv := range overrides {
		if i, ok := index[envKey(kv)]; ok {
			out[i] = kv
			continue
		}
		index[envKey(kv)] = len(out)
		out = append(out, kv)
	}
	return out
}

func envKey(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	return k
}

// containerEnv is containerd's order: the default PATH, HOSTNAME, the
// image's env, then the CRI envs, later keys overriding earlier ones.
func containerEnv(cfg *runtimeapi.ContainerConfig, img ImageConfig, hostname string) ([]string, error) {
	env := mergeEnv([]string{defaultPathEnv}, "HOSTNAME="+hostname)
	env = mergeEnv(env, img.Env...)
	for i, kv := range cfg.GetEnvs() {
		if kv.GetKey() == "" || strings.Contains(kv.GetKey(), "=") {
			return nil, invalidf("envs", "entry %d has invalid key %q", i, kv.GetKey())
		}
		env = mergeEnv(env, kv.GetKey()+"="+string(kv.GetValue()))
	}
	return env, nil
}

// workingDir is the CRI working_dir, else the image's, else "/".
func workingDir(cfg *runtimeapi.ContainerConfig, img ImageConfig) (string, error) {
	if wd := cfg.GetWorkingDir(); wd != "" {
		if !path.IsAbs(wd) {
			return "", invalidf("working_dir", "%q is not absolute", wd)
		}
		return path.Clean(wd), nil
	}
	if img.WorkingDir != "" {
		return path.Join("/", img.WorkingDir), nil
	}
	return "/", nil
}
