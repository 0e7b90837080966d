package plugin

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/devcache/devcache/internal/version"
	"github.com/spf13/cobra"
)

func newVersionCommand(opts *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print devcache's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if opts.format == "json" {
				return json.NewEncoder(out).Encode(map[string]any{
					"version":        version.Version,
					"frontendFormat": version.FrontendFormat,
					"go":             runtime.Version(),
				})
			}
			_, err := fmt.Fprintf(out, "devcache %s (frontend format %d, %s)\n", version.Version, version.FrontendFormat, runtime.Version())
			return err
		},
	}
}
