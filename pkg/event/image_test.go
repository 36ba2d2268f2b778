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
