package event

import (
	"strings"
	"testing"
)

const testDigest = "sha256:74b2c688c700ec95a93e478cdb959737c148df3fbf5ea706abe0318726e885e6"

func TestParseImageRef(t *testing.T) {
	tests := []struct {
		ref  string
		want ImageRef // Raw is filled from ref
	}{
		{"busybox:1.36", ImageRef{Registry: "docker.io", Repository: "library/busybox", Tag: "1.36"}},
		{"busybox", ImageRef{Registry: "docker.io", Repository: "library/busybox", Tag: "latest"}},
		{"nginx@" + testDigest, ImageRef{Registry: "docker.io", Repository: "library/nginx", Digest: testDigest}},
		{"myorg/app:v1", ImageRef{Registry: "docker.io", Repository: "myorg/app", Tag: "v1"}},
		{"docker.io/busybox", ImageRef{Registry: "docker.io", Repository: "library/busybox", Tag: "latest"}},
		{"index.docker.io/library/busybox:1", ImageRef{Registry: "docker.io", Repository: "library/busybox", Tag: "1"}},
		{"ghcr.io/org/team/app:1.0", ImageRef{Registry: "ghcr.io", Repository: "org/team/app", Tag: "1.0"}},
		{"quay.io/prometheus/node-exporter:v1.8.2", ImageRef{Registry: "quay.io", Repository: "prometheus/node-exporter", Tag: "v1.8.2"}},
		{"localhost/app", ImageRef{Registry: "localhost", Repository: "app", Tag: "latest"}},
		{"localhost:5000/team/app:dev", ImageRef{Registry: "localhost:5000", Repository: "team/app", Tag: "dev"}},
		{"registry.example.com:5000/app", ImageRef{Registry: "registry.example.com:5000", Repository: "app", Tag: "latest"}},
		{"public.ecr.aws/nginx/nginx:stable", ImageRef{Registry: "public.ecr.aws", Repository: "nginx/nginx", Tag: "stable"}},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1.2", ImageRef{
			Registry: "111122223333.dkr.ecr.us-east-1.amazonaws.com", Repository: "app", Tag: "1.2",
			ECRAccount: "111122223333", ECRRegion: "us-east-1"}},
		{"111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/team/app", ImageRef{
			Registry: "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn", Repository: "team/app", Tag: "latest",
			ECRAccount: "111122223333", ECRRegion: "cn-north-1"}},
		{"111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:3", ImageRef{
			Registry: "111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com", Repository: "app", Tag: "3",
			ECRAccount: "111122223333", ECRRegion: "us-gov-west-1"}},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1.2@" + testDigest, ImageRef{
			Registry: "111122223333.dkr.ecr.us-east-1.amazonaws.com", Repository: "app", Tag: "1.2", Digest: testDigest,
			ECRAccount: "111122223333", ECRRegion: "us-east-1"}},
		{"1111.dkr.ecr.us-east-1.amazonaws.com/app", ImageRef{ // not a 12-digit account: just a registry
			Registry: "1111.dkr.ecr.us-east-1.amazonaws.com", Repository: "app", Tag: "latest"}},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			got, err := ParseImageRef(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Raw = tc.ref
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if got.IsECR() != (tc.want.ECRAccount != "") {
				t.Errorf("IsECR = %v", got.IsECR())
			}
		})
	}
}

func TestParseImageRefErrors(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"", "image reference is empty"},
		{"App:1", `invalid repository name "App"`},
		{"app:", `invalid tag ""`},
		{"app:bad tag", `invalid tag "bad tag"`},
		{"app@sha256:xyz", `invalid digest "sha256:xyz"`},
		{"app@", `invalid digest ""`},
		{"host.com/", `invalid repository name ""`},
		{":tag", `invalid repository name ""`},
		{"a//b", `invalid repository name "a//b"`},
		{"-app", `invalid repository name "-app"`},
		{" app", `invalid repository name " app"`},
		{"bad_host.com/app", `invalid registry host "bad_host.com"`},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			_, err := ParseImageRef(tc.ref)
			assertInputError(t, err, tc.want)
			if !strings.Contains(err.Error(), "image reference") {
				t.Errorf("error %q does not say it is about an image reference", err)
			}
		})
	}
}

func TestNearECR(t *testing.T) {
	const (
		account = "111122223333"
		region  = "eu-west-1"
		ecr     = account + ".dkr.ecr.eu-west-1.amazonaws.com"
	)
	tests := []struct {
		ref      string
		want     string // the meant reference; "" when ref is no near miss
		implicit bool
	}{
		// misspelled hosts: a near miss by their spelling
		{"111122223333.dkr.ecr.eu-west-1.amazonaws.con/shop/web:1.4.2", ecr + "/shop/web:1.4.2", false},
		{"111122223333.dkr.ecr.eu-west-1.amazonnaws.com/shop/web:1.4.2", ecr + "/shop/web:1.4.2", false},
		{"111122223333.dkkr.ecr.eu-west-1.amazonaws.com/web", ecr + "/web:latest", false},
		{"111122223333.ecr.eu-west-1.amazonaws.com/web:1", ecr + "/web:1", false},
		{"111122223333.dkr.ecr.eu-west-1.amazonaws/web:1", ecr + "/web:1", false},
		{"111122223333.api.ecr.eu-west-1.amazonaws.com/web:1", ecr + "/web:1", false},
		{"dkr.ecr.eu-west-1.amazonaws.com/web:1", ecr + "/web:1", false},                                                    // no account: the task's
		{"11112222333.dkr.ecr.eu-west-1.amazonaws.com/web:1", ecr + "/web:1", false},                                        // a digit short of the task's account
		{"444455556666.dkr.ecr.us-east-1.amazonaws.con/web:1", "444455556666.dkr.ecr.us-east-1.amazonaws.com/web:1", false}, // its own account and region
		{"111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.con/web:1", "111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/web:1", false},
		{"111122223333.dkr.ecr.cn-north-1.amazonaws.com.cm/web:1", "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/web:1", false},
		{"111122223333.DKR.ECR.eu-west-1.amazonaws.con/web@" + testDigest, ecr + "/web@" + testDigest, false},
		// no registry: Docker Hub served it; the task's registry may hold it
		{"shop/web:1.4.2", ecr + "/shop/web:1.4.2", true},
		{"web:1.4.2", ecr + "/web:1.4.2", true},
		{"library/web", ecr + "/library/web:latest", true},
		{"web@" + testDigest, ecr + "/web@" + testDigest, true},
		// not near misses
		{ecr + "/web:1", "", false},                                         // ECR itself
		{"111122223333.dkr-ecr.eu-west-1.on.aws/web:1", "", false},          // ECR's dual-stack host
		{"docker.io/shop/web:1", "", false},                                 // Docker Hub, named on purpose
		{"index.docker.io/library/nginx:1", "", false},                      // likewise
		{"public.ecr.aws/nginx/nginx:stable", "", false},                    // ECR Public
		{"ghcr.io/acme/web:2", "", false},                                   // another registry
		{"registry.eu-west-1.amazonaws.com/web:1", "", false},               // too far from any ECR host
		{"1111.dkr.ecr.eu-west-1.amazonaws.com/web:1", "", false},           // an account nowhere near the task's
		{"111122223333.dkr.ecr.eu-west-1.amazonaws.con:443/web", "", false}, // a port is deliberate
		{"localhost:5000/web", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			r, err := ParseImageRef(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := NearECR(r, account, region)
			if ok != (tc.want != "") {
				t.Fatalf("near miss = %v (%+v), want %v", ok, got, tc.want != "")
			}
			if !ok {
				return
			}
			want, err := ParseImageRef(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if got.Meant != want || got.Implicit != tc.implicit {
				t.Errorf("got  %+v implicit=%v\nwant %+v implicit=%v", got.Meant, got.Implicit, want, tc.implicit)
			}
		})
	}
}

// Without a task account and region there is nothing to compare against.
func TestNearECRNeedsTheTaskRegistry(t *testing.T) {
	r, err := ParseImageRef("111122223333.dkr.ecr.eu-west-1.amazonaws.con/web:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ account, region string }{{"", "eu-west-1"}, {"111122223333", ""}, {"1111", "eu-west-1"}, {"111122223333", "EU-WEST-1"}} {
		if got, ok := NearECR(r, tc.account, tc.region); ok {
			t.Errorf("NearECR(%q, %q) = %+v, want none", tc.account, tc.region, got)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b        string
		limit, want int
	}{
		{"", "", 4, 0},
		{"com", "con", 4, 1},
		{"amazonaws", "amazonnaws", 4, 1},
		{"kitten", "sitting", 4, 3},
		{"abc", "", 4, 3},
		{"abcdef", "", 4, 5},       // longer than the limit: limit+1
		{"aaaaaa", "bbbbbb", 4, 5}, // every row past the limit
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b, tc.limit); got != tc.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a, tc.limit); got != tc.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d (not symmetric)", tc.b, tc.a, tc.limit, got, tc.want)
		}
	}
}
