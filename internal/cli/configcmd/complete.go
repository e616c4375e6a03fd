package configcmd

import (
	"reflect"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/waasctl/waasctl/internal/cli/cmdutil"
	"github.com/waasctl/waasctl/internal/config"
)

// completeProfileArgs completes PROFILE... arguments.
func completeProfileArgs(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.CompleteProfiles(f, 0)
}

// completeKeys completes a KEY: the settings of each profile the config file has, as the
// schema names them, and nothing for the values after it.
func completeKeys(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, name := range cmdutil.ProfileNames(cmd.Context(), f) {
			prefix := "profiles." + name
			if strings.Contains(name, ".") {
				prefix = "profiles[" + name + "]"
			}
			for _, k := range settingKeys(reflect.TypeFor[config.Profile](), prefix) {
				if strings.HasPrefix(k, toComplete) {
					out = append(out, k)
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// settingKeys lists the leaf settings of struct type t under prefix; lists of sections get
// their first item and [+].
func settingKeys(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := range t.NumField() {
		fl := t.Field(i)
		name, _, _ := strings.Cut(fl.Tag.Get("yaml"), ",")
		if !fl.IsExported() || name == "-" || name == "" {
			continue
		}
		ft := fl.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		p := prefix + "." + name
		switch {
		case ft.Kind() == reflect.Struct:
			keys = append(keys, settingKeys(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, p+"[+]")
			keys = append(keys, settingKeys(ft.Elem(), p+"[0]")...)
		default:
			keys = append(keys, p)
		}
	}
	return slices.Compact(keys)
}
