package e2e

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/pullmedic/pullmedic/internal/faultproxy"
	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/notify"
	"github.com/pullmedic/pullmedic/pkg/triage"
)

// Hub and spoke against moto: the hub (moto's default account) assumes
// pullmedic-reader in each member, which moto answers with credentials that
// act in that account (../shared/notes/moto.md).

// scopeProxy forwards to moto and records each signed call's credential
// scope: the access key (which names the account it acts in) and region.
type scopeProxy struct {
	url   string
	mu    sync.Mutex
	calls []string // "ACCESSKEY REGION SERVICE"
}

func newScopeProxy(tb testing.TB, target string) *scopeProxy {
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	p := &scopeProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Credential=AKID/DATE/REGION/SERVICE/aws4_request
		if _, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
			parts := strings.Split(strings.SplitN(cred, ",", 2)[0], "/")
			if len(parts) >= 4 {
				p.mu.Lock()
				p.calls = append(p.calls, parts[0]+" "+parts[2]+" "+parts[3])
				p.mu.Unlock()
			}
		}
		forward.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// take returns the calls recorded since the last take.
func (p *scopeProxy) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.calls
	p.calls = nil
	return out
}

// organization returns moto's organization (made by moto's default account,
// the hub) and two new member accounts.
func organization(t *testing.T, cfg aws.Config) (org string, members [2]string) {
	t.Helper()
	ctx, c := context.Background(), organizations.NewFromConfig(cfg)
	out, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	var notInUse *orgtypes.AWSOrganizationsNotInUseException
	if errors.As(err, &notInUse) {
		created, cerr := c.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
		if cerr != nil {
			t.Fatal(cerr)
		}
		org = aws.ToString(created.Organization.Id)
	} else if err != nil {
		t.Fatal(err)
	} else {
		org = aws.ToString(out.Organization.Id)
	}
	for i := range members {
		acct := seeded[*organizations.CreateAccountOutput](t, "member account")(c.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String("member"), Email: aws.String("member" + string(rune('a'+i)) + "@example.com")}))
		members[i] = aws.ToString(acct.CreateAccountStatus.AccountId)
	}
	return org, members
}

// noticeRecorder keeps the notices sent.
type noticeRecorder struct {
	mu      sync.Mutex
	notices []*notify.Notice
}

func (r *noticeRecorder) Notify(_ context.Context, n *notify.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
	return nil
}

func (r *noticeRecorder) take() []*notify.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.notices
	r.notices = nil
	return out
}

// noInvoke fails the test if the hub hands a plan to remediate: no member
// cluster here opted in.
type noInvoke struct{ t *testing.T }

func (n noInvoke) Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	n.t.Error("remediate invoked for a cluster that did not opt in")
	return &lambda.InvokeOutput{}, nil
}

// hub is a diagnose handler in hub mode, reading through proxyURL.
type hub struct {
	h       *triage.Handler
	roles   *account.Roles
	sent    *noticeRecorder
	metrics *bytes.Buffer
	logs    *bytes.Buffer
}

func newHub(t *testing.T, proxyURL, org string) *hub {
	t.Helper()
	cfg := motoserver.Config(t, region)
	cfg.BaseEndpoint = aws.String(proxyURL)
	roles := account.NewRoles(cfg, "pullmedic-reader", "")
	table, _ := statetest.New(t)
	hb := &hub{roles: roles, sent: &noticeRecorder{}, metrics: &bytes.Buffer{}, logs: &bytes.Buffer{}}
	hb.h = &triage.Handler{
		View: &account.Members{Roles: roles}, State: table,
		Channels: notify.Channels{{Name: "record", Notifier: hb.sent}}, Invoker: noInvoke{t}, Remediate: "pullmedic-remediate",
		Metrics: notify.NewMetrics(hb.metrics), Log: slog.New(slog.NewJSONHandler(hb.logs, nil)),
		Admission: &account.Admission{Organization: org, Roles: roles},
	}
	return hb
}

// Events from two member accounts in two regions: each diagnosis reads only
// its own account and region, finds its own world's cause, and its notice
// names the account and region. An account outside the organization is
// refused before anything is written.
func TestHubDiagnosesEachAccountInItsOwnRegion(t *testing.T) {
	ctx := context.Background()
	org, members := organization(t, motoserver.Config(t, region))
	proxy := newScopeProxy(t, motoserver.Endpoint(t))
	hb := newHub(t, proxy.url, org)

	regions := [2]string{"eu-west-1", "ap-southeast-2"}
	var worlds [2]*world
	keys := map[string]string{} // access key -> account
	for i, acct := range members {
		cfg, err := hb.roles.Config(ctx, acct, regions[i])
		if err != nil {
			t.Fatal(err)
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keys[creds.AccessKeyID] = acct
		worlds[i] = memberWorld(t, cfg, acct, "")
	}
	proxy.take()

	for i, w := range worlds {
		t.Run(w.account+"/"+w.region, func(t *testing.T) {
			if err := hb.h.Handle(ctx, w.stoppedEvent(t, w.name+"-ev")); err != nil {
				t.Fatal(err)
			}
			calls := proxy.take()
			reads := 0
			for _, c := range calls {
				f := strings.Fields(c)
				if f[2] == "sts" || f[2] == "dynamodb" || f[2] == "organizations" && keys[f[0]] == w.account {
					continue // the hub's own: the role, the state table; the membership proof
				}
				reads++
				if keys[f[0]] != w.account || f[1] != w.region {
					t.Errorf("diagnosis of %s/%s made a call in account %q region %s (%s)", w.account, w.region, keys[f[0]], f[1], f[2])
				}
			}
			if reads < 10 {
				t.Errorf("only %d reads recorded: %v", reads, calls)
			}
			sent := hb.sent.take()
			if len(sent) != 1 {
				t.Fatalf("%d notices, want 1", len(sent))
			}
			n := sent[0]
			if n.Account != w.account || n.Region != regions[i] || n.Unreadable != "" {
				t.Errorf("notice in %q %q (unreadable %q), want %s %s", n.Account, n.Region, n.Unreadable, w.account, regions[i])
			}
			if got := n.CauseID(); got != "network.endpoint-sg" {
				t.Errorf("cause %q, want network.endpoint-sg: the diagnosis did not read its own world", got)
			}
			if text := notify.EmailText(n); !strings.Contains(text, "Account and region: "+w.account+" "+w.region) {
				t.Errorf("the email does not name the account and region:\n%s", text)
			}
			if attrs := n.Attributes(); attrs["account"] != w.account || attrs["region"] != w.region {
				t.Errorf("SNS attributes %v lack the account and region", attrs)
			}
			for _, l := range n.Links {
				if strings.HasPrefix(l.URL, "https://") && strings.Contains(l.URL, "region=") && !strings.Contains(l.URL, "region="+w.region) {
					t.Errorf("console link %s opens another region than %s", l.URL, w.region)
				}
			}
		})
	}

	t.Run("outside the organization", func(t *testing.T) {
		outside := *worlds[0]
		outside.account = "222233334444" // assumable in moto, in no organization
		if err := hb.h.Handle(ctx, outside.stoppedEvent(t, outside.name+"-outside")); err != nil {
			t.Fatal(err)
		}
		if sent := hb.sent.take(); len(sent) != 0 {
			t.Errorf("%d notices for a refused account", len(sent))
		}
		for _, c := range proxy.take() {
			if f := strings.Fields(c); f[2] != "sts" && f[2] != "organizations" {
				t.Errorf("a refused event made the call %s", c)
			}
		}
		if !strings.Contains(hb.logs.String(), `"msg":"event refused: account not served by this hub"`) ||
			!strings.Contains(hb.logs.String(), "222233334444") {
			t.Errorf("no log line names the refused account:\n%s", hb.logs)
		}
		if !strings.Contains(hb.metrics.String(), `"`+notify.EventsRefused+`":1`) {
			t.Errorf("no %s metric:\n%s", notify.EventsRefused, hb.metrics)
		}
	})
}

// A member without the role (AssumeRole answered with an error by a fault
// stub: moto does not check that roles exist) gets a notice that says so,
// with the error; never a crash, never silence.
func TestHubNoticeForAMemberWithoutTheRole(t *testing.T) {
	ctx := context.Background()
	cfg := motoserver.Config(t, "eu-west-1")
	member := "444455556666"
	roles := account.NewRoles(cfg, "pullmedic-reader", "")
	mcfg, err := roles.Config(ctx, member, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	w := memberWorld(t, mcfg, member, "")

	faults := faultproxy.New(t, motoserver.Endpoint(t))
	faults.Set(faultproxy.Rule{Service: "sts", Operation: "AssumeRole", Fault: faultproxy.Unavailable})
	hb := newHub(t, faults.URL, "")
	hb.h.Admission = &account.Admission{Accounts: []string{member}}

	if err := hb.h.Handle(ctx, w.stoppedEvent(t, w.name+"-norole")); err != nil {
		t.Fatalf("Handle = %v; want a notice, not a failed invocation", err)
	}
	sent := hb.sent.take()
	if len(sent) != 1 {
		t.Fatalf("%d notices, want 1", len(sent))
	}
	n := sent[0]
	want := "cannot read account " + member + ": assume arn:aws:iam::" + member + ":role/pullmedic-reader: "
	if !strings.HasPrefix(n.Unreadable, want) || !strings.Contains(n.Unreadable, "ServiceUnavailable") {
		t.Errorf("notice says %q, want %q and the error", n.Unreadable, want)
	}
	if !strings.Contains(n.Headline(), want) || !n.Report.Inconclusive {
		t.Errorf("headline %q (inconclusive %v): the notice must lead with the reason and judge nothing", n.Headline(), n.Report.Inconclusive)
	}
	if faults.Count("ec2", "") != 0 || faults.Count("ecs", "") != 0 {
		t.Error("reads were made without the member's role")
	}
	if !strings.Contains(hb.metrics.String(), `"`+notify.AccountsUnreadable+`":1`) {
		t.Errorf("no %s metric:\n%s", notify.AccountsUnreadable, hb.metrics)
	}
}
