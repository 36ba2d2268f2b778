package rules

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

func TestNetCovers(t *testing.T) {
	for _, tc := range []struct {
		outer, inner string
		want         bool
	}{
		{"0.0.0.0/0", "10.0.1.23", true},
		{"10.0.0.0/16", "10.0.1.0/24", true},
		{"10.0.1.0/24", "10.0.0.0/16", false},
		{"10.0.1.7/24", "10.0.1.23/32", true}, // host bits are ignored, as EC2 does
		{"10.0.2.0/24", "10.0.1.23", false},
		{"not-a-cidr", "10.0.1.23", false},
		{"", "10.0.1.23", false},
		{"::/0", "10.0.1.23", false},
	} {
		inner, ok := parsePrefix(tc.inner)
		if !ok {
			t.Fatalf("parsePrefix(%q) failed", tc.inner)
		}
		if got := coversString(tc.outer, inner); got != tc.want {
			t.Errorf("coversString(%q, %q) = %v, want %v", tc.outer, tc.inner, got, tc.want)
		}
	}
}

func TestNetPermAllowsHTTPS(t *testing.T) {
	for _, tc := range []struct {
		proto    string
		from, to *int32
		want     bool
	}{
		{"-1", nil, nil, true},
		{"tcp", aws.Int32(443), aws.Int32(443), true},
		{"6", aws.Int32(0), aws.Int32(65535), true},
		{"tcp", nil, nil, true},
		{"tcp", aws.Int32(444), aws.Int32(8443), false},
		{"udp", aws.Int32(443), aws.Int32(443), false},
		{"icmp", aws.Int32(-1), aws.Int32(-1), false},
	} {
		p := ec2types.IpPermission{IpProtocol: aws.String(tc.proto), FromPort: tc.from, ToPort: tc.to}
		if got := permAllowsHTTPS(p); got != tc.want {
			t.Errorf("permAllowsHTTPS(%s %v-%v) = %v, want %v", tc.proto, aws.ToInt32(tc.from), aws.ToInt32(tc.to), got, tc.want)
		}
	}
}

func TestNetNeedsECRAPI(t *testing.T) {
	for _, tc := range []struct {
		launch, platform string
		want             bool
	}{
		{"FARGATE", "1.4.0", true},
		{"FARGATE", "LATEST", true},
		{"FARGATE", "", true},
		{"FARGATE", "1.3.0", false},
		{"FARGATE", "1.10.0", true},
		{"FARGATE", "garbage", true},
		{"EC2", "", true},
	} {
		f := natVPC()
		f.Task.LaunchType, f.Task.PlatformVersion = tc.launch, tc.platform
		if got := needsECRAPI(f); got != tc.want {
			t.Errorf("needsECRAPI(%s %q) = %v, want %v", tc.launch, tc.platform, got, tc.want)
		}
	}
}

func TestNetPullDestinations(t *testing.T) {
	names := func(f *account.Facts) []string {
		p, err := analyzePath(f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range pullDestinations(f, p) {
			out = append(out, d.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		facts func() *account.Facts
		want  []string
	}{
		{"nat path goes to the internet", natVPC, []string{"the internet (0.0.0.0/0)"}},
		{"endpoint design", endpointVPC, []string{"ecr.dkr endpoint vpce-ecr-dkr", "ecr.api endpoint vpce-ecr-api",
			"S3 gateway endpoint vpce-s3 (pl-s3)", "logs endpoint vpce-logs"}},
		{"nat path with private DNS endpoints uses them", natWithEndpoints, []string{"ecr.dkr endpoint vpce-ecr-dkr", "ecr.api endpoint vpce-ecr-api",
			"S3 gateway endpoint vpce-s3 (pl-s3)", "logs endpoint vpce-logs"}},
		{"nat path, logs endpoint without private DNS goes out", with(natWithEndpoints, func(f *account.Facts) {
			fxEndpoint(f, "vpce-logs").PrivateDnsEnabled = aws.Bool(false)
		}), []string{"ecr.dkr endpoint vpce-ecr-dkr", "ecr.api endpoint vpce-ecr-api", "S3 gateway endpoint vpce-s3 (pl-s3)", "the internet (0.0.0.0/0)"}},
		{"endpoint design without S3 gateway still names S3 by its prefix list", with(endpointVPC, dropEndpoint("vpce-s3")),
			[]string{"ecr.dkr endpoint vpce-ecr-dkr", "ecr.api endpoint vpce-ecr-api", "S3 gateway endpoint (pl-s3)", "logs endpoint vpce-logs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(tc.facts()); !slices.Equal(got, tc.want) {
				t.Errorf("destinations = %q, want %q", got, tc.want)
			}
		})
	}
	if _, ok := parsePrefix("10.0.0.0/33"); ok {
		t.Error("parsePrefix accepted a /33")
	}
}
