package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/rnnkit/rnnkit/keras"
	"google.golang.org/grpc/codes"
)

// Errors a caller of the package can test for with errors.Is. The HTTP
// handlers answer them with the status code named in each comment.
var (
	// ErrBadRequest means a request is malformed or does not fit the model
	// (400). Errors of the model's own input checks (keras.ErrInput) are
	// answered the same way.
	ErrBadRequest = errors.New("bad request")
	// ErrNotFound means the model or version is not served (404).
	ErrNotFound = errors.New("not found")
	// ErrTooLarge means the request body exceeds the server's limit (413).
	ErrTooLarge = errors.New("request too large")
	// ErrBusy means the model's queue is full (503, with Retry-After).
	ErrBusy = errors.New("queue full")
	// ErrClosed means the server is shutting down or the model version
	// was replaced before the request ran (503).
	ErrClosed = errors.New("server shutting down")
)

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrBadRequest), errors.Is(err, keras.ErrInput):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBusy), errors.Is(err, ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		// The client went away (nginx's "client closed request").
		return 499
	}
	return http.StatusInternalServerError
}

// grpcCode maps an error to its gRPC status code.
func grpcCode(err error) codes.Code {
	switch statusOf(err) {
	case http.StatusOK:
		return codes.OK
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusRequestEntityTooLarge:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case 499:
		return codes.Canceled
	}
	return codes.Internal
}

// kindError is an error of a kind (ErrBadRequest, ErrNotFound) whose
// message is the detail alone.
type kindError struct {
	kind, err error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

func badRequest(format string, a ...any) error {
	return &kindError{ErrBadRequest, fmt.Errorf(format, a...)}
}

func notFound(format string, a ...any) error {
	return &kindError{ErrNotFound, fmt.Errorf(format, a...)}
}
