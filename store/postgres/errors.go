package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/crawler-dev/crawler/store"
)

// describe turns the driver's errors into ones a user can act on, and
// marks those that say the database cannot be reached for now with
// store.ErrUnavailable, so that the crawl waits for the server instead of
// stopping.
func describe(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", "28000":
			return fmt.Errorf("authentication failed (%s): check the user and password of the database URL (%w)", pe.Message, err)
		case "3D000":
			return fmt.Errorf("the database does not exist: create it (createdb NAME) or fix the URL's database name (%w)", err)
		case "42501":
			return fmt.Errorf("permission denied: the database user needs CREATE on the database (for the crawl's schema) "+
				"and on the schema (%w)", err)
		case "25006":
			return fmt.Errorf("statement refused: queries may only read the crawl (%w)", err)
		case "57014":
			return fmt.Errorf("statement cancelled: it ran longer than the statement timeout (%w)", err)
		case "54000":
			return fmt.Errorf("a value is too long for PostgreSQL (%w)", err)
		}
		if retryable(pe.Code) {
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	var big *pgproto3.ExceededMaxBodyLenErr
	if errors.As(err, &big) {
		return err
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// retryable reports whether a server error code says the statement may
// succeed if tried again: the server shutting down or starting, too many
// connections, a serialization failure or deadlock, a connection error.
func retryable(code string) bool {
	switch code {
	case "40001", "40P01", // serialization_failure, deadlock_detected
		"57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
		"53300", "53400", // too_many_connections, configuration_limit_exceeded
		"55P03": // lock_not_available
		return true
	}
	return len(code) == 5 && code[:2] == "08" // connection exceptions
}

// unreachable reports whether err is a connection that could not be made
// or was lost: refused, reset, closed mid-statement, timed out.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return retryable(pe.Code)
		}
		return !isDNS(err)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	// pgx reports a connection it closed after an error as "conn closed".
	return err.Error() == "conn closed"
}

// isDNS reports a host name that does not resolve: a wrong URL, not an
// outage.
func isDNS(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
