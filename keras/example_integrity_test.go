package keras_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rnnkit/rnnkit/keras"
)

// ExampleSealSHA256 seals a model with a SHA-256 manifest and its
// self-check vectors, as `rnnconvert seal MODEL --case DIR` does; a
// changed byte then fails the load with ErrIntegrity.
func ExampleSealSHA256() {
	dir, _ := os.MkdirTemp("", "seal")
	defer os.RemoveAll(dir)
	model := filepath.Join(dir, "model.keras")
	data, _ := os.ReadFile(exampleDir + "model.keras")
	os.WriteFile(model, data, 0o644)

	c, _ := keras.ReadCase(exampleDir)
	if _, err := keras.WriteSelfCheck(model, c); err != nil {
		fmt.Println(err)
	}
	if _, err := keras.SealSHA256(model); err != nil {
		fmt.Println(err)
	}
	_, err := keras.Load(model, keras.WithSelfCheck())
	fmt.Println("sealed model loads:", err == nil)

	data[len(data)/2] ^= 1
	os.WriteFile(model, data, 0o644)
	_, err = keras.Load(model)
	fmt.Println("damaged model:", errors.Is(err, keras.ErrIntegrity))
	// Output:
	// sealed model loads: true
	// damaged model: true
}
