package cmdline

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/devcache/devcache/internal/version"
	"github.com/spf13/cobra"
)

func newVersionCommand(opts *Root) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print devcache's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if opts.Format == "json" {
				return json.NewEncoder(out).Encode(map[string]any{
					"version":        version.Version,
					"frontendImage":  version.FrontendImage,
					"frontendFormat": version.FrontendFormat,
					"go":             runtime.Version(),
				})
			}
			if _, err := fmt.Fprintf(out, "devcache %s (frontend format %d, %s)\n", version.Version, version.FrontendFormat, runtime.Version()); err != nil {
				return err
			}
			if version.FrontendImage == "" {
				return nil
			}
			// The plugin runs the frontend in-process; this is the image
			// of the same release for `// syntax=` lines.
			_, err := fmt.Fprintf(out, "frontend image %s\n", version.FrontendImage)
			return err
		},
	}
}
