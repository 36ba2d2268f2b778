package faultproxy

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// protocol is the wire protocol of a request, which decides how an injected
// error must look for the SDK to parse its code.
type protocol int

const (
	protoJSON  protocol = iota // awsJson1_0/1_1: X-Amz-Target
	protoQuery                 // awsQuery (IAM, SNS, STS): Action form, <ErrorResponse>
	protoEC2                   // ec2Query: Action form, <Response><Errors>
)

// op is what the proxy knows of one request.
type op struct {
	service, name string
	proto         protocol
}

// The SigV4 credential scope ends in REGION/SERVICE/aws4_request; the signing
// name is the IAM service prefix for every service pullmedic calls.
var credentialScope = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)

// Operation names the AWS operation of a SigV4-signed SDK request: the
// service from the credential scope (its signing name, which is also its IAM
// prefix, e.g. "ecs"), the operation from the JSON protocols' X-Amz-Target or
// the query protocols' Action form parameter. It reads the body and puts it
// back, so r can still be forwarded. REST protocols (Lambda, S3) are not
// recognised.
func Operation(r *http.Request) (service, operation string, err error) {
	body, err := readBody(r)
	if err != nil {
		return "", "", err
	}
	o, err := parse(r, body)
	return o.service, o.name, err
}

// readBody reads r's body and replaces it with an unread copy.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", r.Method, r.URL.Path, err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func parse(r *http.Request, body []byte) (op, error) {
	m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return op{}, fmt.Errorf("unsigned %s %s", r.Method, r.URL.Path)
	}
	service := m[1]
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		return op{service, target[strings.LastIndex(target, ".")+1:], protoJSON}, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") == "" {
		return op{}, fmt.Errorf("%s: no operation in %s %s", service, r.Method, r.URL.Path)
	}
	proto := protoQuery
	if service == "ec2" {
		proto = protoEC2
	}
	return op{service, form.Get("Action"), proto}, nil
}

// apiError is one error as each protocol spells it.
type apiError struct {
	status           int
	json, query, ec2 string // the error code per protocol
	fault            string // the query protocol's Type: whose fault it is
	message          string
}

// The codes are the ones AWS sends, and ones the SDK's standard retryer
// knows: retry.DefaultThrottleErrorCodes has ThrottlingException, Throttling
// and RequestLimitExceeded, and 503 is a retryable status. EC2 answers
// throttling with 503, the other services with 400.
var (
	throttled   = apiError{http.StatusBadRequest, "ThrottlingException", "Throttling", "RequestLimitExceeded", "Sender", "Rate exceeded"}
	unavailable = apiError{http.StatusServiceUnavailable, "ServiceUnavailableException", "ServiceUnavailable", "Unavailable", "Receiver", "Service unavailable"}
)

// write sends e in the request's protocol.
func (e apiError) write(w http.ResponseWriter, r *http.Request, proto protocol, requestID string) {
	status, body := e.status, ""
	switch proto {
	case protoJSON:
		w.Header().Set("Content-Type", cmp.Or(r.Header.Get("Content-Type"), "application/x-amz-json-1.1"))
		w.Header().Set("X-Amzn-ErrorType", e.json)
		w.Header().Set("X-Amzn-RequestId", requestID)
		body = fmt.Sprintf(`{"__type":%q,"message":%q}`, e.json, e.message)
	case protoQuery:
		w.Header().Set("Content-Type", "text/xml")
		body = fmt.Sprintf(`<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			e.fault, e.query, e.message, requestID)
	case protoEC2:
		w.Header().Set("Content-Type", "text/xml")
		status = http.StatusServiceUnavailable // EC2 throttles with 503 too
		body = fmt.Sprintf(`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			e.ec2, e.message, requestID)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
