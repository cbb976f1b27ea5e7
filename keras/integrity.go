package keras

// integrityOptions are the load options that check a file's integrity.
type integrityOptions struct {
	sha256    string
	selfCheck bool
}
