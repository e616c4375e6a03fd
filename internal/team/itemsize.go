package team

import (
	"fmt"

	"github.com/waasctl/waasctl/internal/credentials"
)

// maxItemCiphertext caps a key item's stored ciphertext: an item of three keys encrypted to a
// few dozen recipients is a few KiB, and decrypt reads at most maxPlaintext of it anyway. A
// larger row was not written by waasctl; a 200 MB one (planted by whoever can write the
// database) cost every command that read it 418 MB. Queries select the column through
// itemCiphertext, so such a row's bytes never leave the server.
const maxItemCiphertext = maxPlaintext + 256<<10

// itemCiphertext selects the ciphertext only when it is within the cap (NULL otherwise) and
// its length: octet_length reads the stored size without fetching or decompressing the value.
var itemCiphertext = fmt.Sprintf("CASE WHEN octet_length(ciphertext) <= %d THEN ciphertext END, octet_length(ciphertext)", maxItemCiphertext)

// checkItemSize refuses a ciphertext that itemCiphertext left out for its size, naming the
// profile and the way out.
func checkItemSize(profile string, size int64) error {
	if size <= maxItemCiphertext {
		return nil
	}
	return fmt.Errorf("profile %s: its key item in the team store is %d bytes, over the %d an item may be: waasctl did not write it; remove it with 'waasctl auth remove %s' (%w)",
		profile, size, maxItemCiphertext, profile, credentials.ErrItemDamaged)
}

// itemSealColumn selects a row's seal, "" when it has none or when it is too long to be one (a seal
// holds a MAC for each recipient: a few KiB for a large team), so that a hostile row's seal
// never leaves the server either; such a row is then refused as unsealed.
const itemSealColumn = "CASE WHEN octet_length(seal) <= 262144 THEN coalesce(seal, '') ELSE '' END"
