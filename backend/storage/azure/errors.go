package azure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/pgsafe/pgsafe/backend/storage"
)

// Error is a failure of the storage, explained. Its message never contains
// the account key or the SAS token; Unwrap gives the SDK's error (whose own
// text may contain the SAS: a *url.Error names the whole URL), for errors.Is
// and errors.As only.
type Error struct {
	msg string
	err error
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.err }

// explain turns an error of an operation (what: "upload db/x to") into what
// happened and what to check.
func (s *Azure) explain(err error, what string) error {
	if err == nil {
		return nil
	}
	why := s.why(err)
	if errors.Is(why, storage.ErrNotFound) {
		return &Error{fmt.Sprintf("cannot %s %s: %v", what, s, storage.ErrNotFound), storage.ErrNotFound}
	}
	if why == nil {
		return &Error{fmt.Sprintf("cannot %s %s: %s", what, s, describe(err)), err}
	}
	return &Error{fmt.Sprintf("cannot %s %s: %v (%s)", what, s, why, describe(err)), err}
}

// describe is err's text without secrets: the service's answer as its
// status and code; a URL without its query.
func describe(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return fmt.Sprintf("HTTP %d %s", re.StatusCode, re.ErrorCode)
		}
		return fmt.Sprintf("HTTP %d", re.StatusCode)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		u, perr := url.Parse(ue.URL)
		where := "(a URL)"
		if perr == nil {
			u.RawQuery, u.User, u.Fragment = "", nil, ""
			where = u.String()
		}
		return fmt.Sprintf("%s %s: %s", ue.Op, where, describe(ue.Err))
	}
	return redactQuery(err.Error())
}

// redactQuery cuts anything after a '?' of a URL in s: where a SAS token
// would be.
func redactQuery(s string) string {
	for _, mark := range []string{"?sv=", "?se=", "?sp=", "?ss=", "?st=", "?sig=", "&sig=", "sig="} {
		if i := strings.Index(s, mark); i >= 0 {
			return s[:i] + "?…"
		}
	}
	return s
}

// why explains err, or returns nil when it has nothing to add.
func (s *Azure) why(err error) error {
	var (
		re       *azcore.ResponseError
		dns      *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		netErr   net.Error
	)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return nil
	case errors.As(err, &re):
		return s.whyService(re.ErrorCode, re.StatusCode)
	case errors.As(err, &dns):
		if strings.TrimSpace(s.cfg.Endpoint) == "" && dns.IsNotFound {
			return fmt.Errorf("there is no storage account named %s (its address %s is unknown): check the account name; the account may have been deleted", s.cfg.Account, dns.Name)
		}
		return fmt.Errorf("the host name %s is unknown: check the endpoint address, and the network connection", dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("nothing answers at the endpoint (connection refused): check its address and port, and that the server is running")
	case errors.As(err, &unknown), errors.As(err, &invalid):
		return errors.New("the server's TLS certificate is not trusted (self-signed, expired or from an unknown authority): install its certificate authority on this computer, or fix the certificate")
	case errors.As(err, &hostname):
		return errors.New("the server's TLS certificate is for another host name: check the endpoint address")
	case errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return errors.New("the server does not speak TLS: if it really has no encryption (an emulator), write the endpoint with http://")
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errors.New("the connection to the server was lost: check the network, and that the server is running")
	case errors.As(err, &netErr) && netErr.Timeout():
		return errors.New("the server did not answer in time: check the network, and that the server is running")
	case errors.As(err, new(*net.OpError)):
		return errors.New("cannot reach the server: check the endpoint address, and the network connection")
	}
	return nil
}

// whyService explains an error the storage service answered.
func (s *Azure) whyService(code string, status int) error {
	sas := s.cfg.SAS != ""
	switch code {
	case "BlobNotFound":
		return storage.ErrNotFound
	case "ContainerNotFound", "ContainerBeingDeleted":
		return fmt.Errorf("the container %s does not exist in the storage account %s: check the container's name, or create it", s.cfg.Container, s.cfg.Account)
	case "ResourceNotFound":
		if status == 404 {
			return fmt.Errorf("the container %s or the storage account %s does not exist: check both names and the endpoint", s.cfg.Container, s.cfg.Account)
		}
	case "AuthenticationFailed", "InvalidAuthenticationInfo", "NoAuthenticationInformation":
		if sas {
			return s.sasRefused("Azure refused the SAS token (a wrong signature, or it has expired or not started yet): create a new SAS token for the container, and check that this computer's clock is right")
		}
		return errors.New("Azure refused the access key (the request's signature does not match): copy key1 or key2 again from the storage account's \"Access keys\", and check that this computer's clock is right")
	case "AuthorizationPermissionMismatch", "InsufficientAccountPermissions":
		if sas {
			return s.sasRefused("the SAS token does not allow this: " + sasNeeds)
		}
		return errors.New("access denied: the storage account refuses this request: check the account's Networking and Configuration settings")
	case "AuthorizationFailure", "AuthorizationResourceTypeMismatch", "AuthorizationServiceMismatch",
		"AuthorizationProtocolMismatch", "AuthorizationSourceIPMismatch":
		// Azure: a firewall or network rule, or a SAS's limits; Azurite:
		// also a wrong signature.
		if sas {
			return s.sasRefused("Azure refused the SAS token for this (it may have expired, or not allow this operation, this computer's address or plain HTTP): " + sasNeeds)
		}
		return errors.New("Azure refused the request: the access key is wrong, or the account's firewall does not let this computer in: copy key1 or key2 again from the storage account's \"Access keys\", and check its Networking settings")
	case "AccountIsDisabled":
		return fmt.Errorf("the storage account %s is disabled: enable it in the Azure portal", s.cfg.Account)
	case "InvalidBlockList", "InvalidBlockId":
		return errors.New("the upload's blocks were removed while it ran (by a clean-up of unfinished uploads): back up again")
	case "BlobImmutableDueToPolicy", "BlobImmutableDueToLegalHold":
		return errors.New("the blob is under an immutability policy or a legal hold: it cannot be changed or deleted before its date")
	case "OperationNotAllowedInCurrentState", "BlobArchived":
		return errors.New("the blob is archived: rehydrate it to the Hot or Cool tier in the Azure portal before reading it")
	case "InsufficientAccountPermissionsForOperation":
		return errors.New("the storage account does not allow this operation")
	case "AccountBeingCreated":
		return fmt.Errorf("the storage account %s is still being created: try again in a minute", s.cfg.Account)
	case "ServerBusy", "OperationTimedOut", "InternalError":
		return errors.New("Azure is busy or failed (it said so, several times): try again later")
	}
	switch status {
	case 404:
		return storage.ErrNotFound // a HEAD's answer, without a code
	case 403:
		if sas {
			return s.sasRefused("access denied: check that the SAS token is valid: " + sasNeeds)
		}
		return errors.New("access denied: check the access key, and the account's Networking settings")
	case 413:
		return errors.New("the blob is larger than Azure accepts")
	}
	return nil
}

// sasNeeds is what a SAS token must allow.
const sasNeeds = "create a new SAS token for the container that allows read, add, create, write, delete and list (an account SAS also needs the container and object resource types)"

// sasRefused is why, unless the SAS token has expired: then that.
func (s *Azure) sasRefused(why string) error {
	q, err := url.ParseQuery(s.cfg.SAS)
	if err != nil {
		return errors.New(why)
	}
	if end, err := time.Parse(time.RFC3339, q.Get("se")); err == nil && time.Now().After(end) {
		return fmt.Errorf("the SAS token expired on %s: %s", end.Local().Format("2006-01-02 15:04"), sasNeeds)
	}
	return errors.New(why)
}
