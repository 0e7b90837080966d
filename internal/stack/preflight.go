package stack

import (
	"errors"
	"fmt"
	"os"
)

// hostTool is a program the stack needs from the host, with the Debian
// package that provides it.
type hostTool struct {
	name, pkg string
}

var (
	toolRunc     = hostTool{"runc", "runc"}
	toolRegistry = hostTool{"docker-registry", "docker-registry"}
	toolBusybox  = hostTool{"busybox", "busybox-static"}
	toolDebootst = hostTool{"mmdebstrap", "mmdebstrap"}
)

// Preflight reports why this machine cannot run a stack, or nil: buildkitd
// runs rootful and needs root, and runc, docker-registry and a static
// busybox must be installed (hack/stack installs them). With debian set it
// also needs mmdebstrap, unless the Debian rootfs is already cached.
func Preflight(debian bool) error {
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, fmt.Errorf("buildkitd runs rootful here and needs root (uid is %d)", os.Geteuid()))
	}
	tools := []hostTool{toolRunc, toolRegistry, toolBusybox}
	if debian {
		tools = append(tools, toolDebootst)
	}
	for _, t := range tools {
		if _, err := t.path(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (t hostTool) path() (string, error) {
	p, err := lookPathIn(t.name, sbinPATH(os.Getenv("PATH")))
	if err != nil {
		return "", fmt.Errorf("%s not found (apt-get install %s, or run hack/stack up once)", t.name, t.pkg)
	}
	return p, nil
}

// busyboxPath is Debian busybox-static's binary. The dynamically linked
// busybox package installs the same path, so insist on a static binary.
func busyboxPath() (string, error) {
	p, err := toolBusybox.path()
	if err != nil {
		return "", err
	}
	static, err := isStaticELF(p)
	if err != nil {
		return "", fmt.Errorf("inspecting %s: %w", p, err)
	}
	if !static {
		return "", fmt.Errorf("%s is dynamically linked; the seed image needs a static one (apt-get install busybox-static)", p)
	}
	return p, nil
}
