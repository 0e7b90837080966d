package devcontainer

import (
	"errors"
	"fmt"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// MigrateLegacyKeys moves the legacy top-level VS Code keys of a config (or,
// with devPort false, of a feature's metadata) into customizations.vscode,
// exactly as the reference's updateFromOldProperties: `extensions` is
// appended to customizations.vscode.extensions, `settings` is merged under the
// existing customizations.vscode.settings (existing keys win), `devPort` is
// copied only when customizations.vscode.devPort is unset. The object is
// changed in place. The returned error names the offending field.
func MigrateLegacyKeys(o *jsonc.Object, devPort bool) error {
	ext, hasExt := o.Get("extensions")
	settings, _ := o.Get("settings")
	dp, hasDevPort := o.Get("devPort")
	if !devPort {
		hasDevPort = false
	}
	if !(jsonc.Truthy(ext) || jsonc.Truthy(settings) || hasDevPort) {
		return nil
	}
	custom, err := ensureObject(o, "customizations", "customizations")
	if err != nil {
		return err
	}
	vscode, err := ensureObject(custom, "vscode", "customizations.vscode")
	if err != nil {
		return err
	}
	if hasExt && jsonc.Truthy(ext) {
		var list []jsonc.Value
		if cur, ok := vscode.Get("extensions"); ok && jsonc.Truthy(cur) {
			arr, isArr := cur.([]jsonc.Value)
			if !isArr {
				return fieldErr("customizations.vscode.extensions", errors.New("must be an array to take the legacy `extensions`"))
			}
			list = append(list, arr...)
		}
		if arr, isArr := ext.([]jsonc.Value); isArr {
			list = append(list, arr...)
		} else {
			list = append(list, ext)
		}
		vscode.Set("extensions", list)
		o.Delete("extensions")
	}
	if jsonc.Truthy(settings) {
		old, isObj := settings.(*jsonc.Object)
		if !isObj {
			return fieldErr("settings", errors.New("must be an object"))
		}
		var cur *jsonc.Object
		if c, ok := vscode.Get("settings"); ok && jsonc.Truthy(c) {
			co, isObj := c.(*jsonc.Object)
			if !isObj {
				return fieldErr("customizations.vscode.settings", errors.New("must be an object"))
			}
			cur = co
		}
		vscode.Set("settings", jsonc.Spread(old, cur))
		o.Delete("settings")
	}
	if hasDevPort {
		if _, set := vscode.Get("devPort"); !set {
			vscode.Set("devPort", dp)
			o.Delete("devPort")
		}
	}
	return nil
}

// ensureObject returns o[key] when it is a truthy object, or sets it to a new
// empty object when it is falsy.
func ensureObject(o *jsonc.Object, key, field string) (*jsonc.Object, error) {
	v, ok := o.Get(key)
	if ok && jsonc.Truthy(v) {
		obj, isObj := v.(*jsonc.Object)
		if !isObj {
			return nil, fieldErr(field, errors.New("must be an object"))
		}
		return obj, nil
	}
	obj := jsonc.NewObject()
	o.Set(key, obj)
	return obj, nil
}

type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return fmt.Sprintf("%s: %v", e.field, e.err) }
func (e *fieldError) Unwrap() error { return e.err }

func fieldErr(field string, err error) error { return &fieldError{field: field, err: err} }
