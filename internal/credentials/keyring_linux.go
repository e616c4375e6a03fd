package credentials

import (
	"encoding/hex"
	"errors"
	"strings"

	"github.com/99designs/keyring"
	"github.com/godbus/dbus"
)

const (
	secretsService        = "org.freedesktop.secrets"
	secretsPath           = "/org/freedesktop/secrets"
	secretsCollectionPath = secretsPath + "/collection/"
	// fallbackCollection is GNOME Keyring's login keyring, the one that
	// `gnome-keyring-daemon --unlock` creates and unlocks without a prompt.
	fallbackCollection = "login"
)

// secretServiceCollection returns the collection that the Secret Service's
// "default" alias points to (GNOME Keyring: "login"; KeePassXC: the database
// it exposes), where secret-tool and libsecret store by default. 99designs/
// keyring otherwise uses a collection named after the service, and creating
// one makes the daemon ask for a new password: a prompt that cannot appear
// without a desktop, so the call hangs.
func secretServiceCollection() (string, error) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return "", err
	}
	svc := conn.Object(secretsService, secretsPath)
	var path dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&path); err != nil {
		return "", err
	}
	if name, ok := strings.CutPrefix(unescapeObjectPath(string(path)), secretsCollectionPath); ok && name != "" && !strings.Contains(name, "/") {
		return name, nil
	}
	// No default alias ("/"). Use "login" if it exists; if not, 99designs/
	// keyring would try to create it, and fail (headless) or prompt.
	v, err := svc.GetProperty("org.freedesktop.Secret.Service.Collections")
	if err != nil {
		return "", err
	}
	paths, _ := v.Value().([]dbus.ObjectPath)
	for _, p := range paths {
		if unescapeObjectPath(string(p)) == secretsCollectionPath+fallbackCollection {
			return fallbackCollection, nil
		}
	}
	return "", errors.New(`the Secret Service has no default collection to store in (a desktop session creates and unlocks "login" at login; headless, start gnome-keyring-daemon --unlock)`)
}

// unescapeObjectPath undoes the _XX escaping that daemons apply to
// collection names in object paths, as 99designs/keyring does before
// comparing them with the configured name.
func unescapeObjectPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '_' && i+2 < len(p) {
			if c, err := hex.DecodeString(p[i+1 : i+3]); err == nil {
				b.Write(c)
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// keyctlPerm gives possessor and same-user access, like the kernel's own
// user keyring. With 99designs/keyring's default (possessor all, user view)
// a key stored from one login session cannot be read from another: a cron
// job, a second ssh login.
var keyctlPerm = keyring.GetPermissions(keyring.KEYCTL_PERM_ALL, keyring.KEYCTL_PERM_ALL, 0, 0)

// keyctlCheck says whether the kernel keyring of scope can be used.
func keyctlCheck(scope string) error {
	_, err := keyring.GetKeyringIDForScope(scope)
	return err
}
