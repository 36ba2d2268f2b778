package event

import (
	"regexp"
	"strings"
)

// ImageRef is a parsed container image reference.
type ImageRef struct {
	Raw        string `json:"raw"`
	Registry   string `json:"registry"`   // host, "docker.io" when omitted
	Repository string `json:"repository"` // path inside the registry
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
	// Set for private ECR (ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]).
	ECRAccount string `json:"ecrAccount,omitempty"`
	ECRRegion  string `json:"ecrRegion,omitempty"`
}

// IsECR reports whether the image lives in a private ECR registry.
func (r ImageRef) IsECR() bool { return r.ECRAccount != "" }

// Grammar of github.com/distribution/reference, which Docker and ECS follow.
var (
	reHost     = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$`)
	rePath     = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	reTag      = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	reDigest   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$`)
	reECRHost  = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)
	dockerHubs = map[string]bool{"docker.io": true, "index.docker.io": true}
)

// ParseImageRef splits an image reference into registry, repository, tag and digest.
func ParseImageRef(ref string) (ImageRef, error) {
	r := ImageRef{Raw: ref}
	if ref == "" {
		return r, inputErrorf("image reference is empty")
	}
	name := ref
	if at := strings.IndexByte(name, '@'); at >= 0 {
		name, r.Digest = name[:at], name[at+1:]
		if !reDigest.MatchString(r.Digest) {
			return r, inputErrorf("image reference %q: invalid digest %q", ref, r.Digest)
		}
	}
	// The tag follows the last ':' of the last path part; an earlier ':' is a registry port.
	if colon := strings.LastIndexByte(name, ':'); colon > strings.LastIndexByte(name, '/') {
		name, r.Tag = name[:colon], name[colon+1:]
		if !reTag.MatchString(r.Tag) {
			return r, inputErrorf("image reference %q: invalid tag %q", ref, r.Tag)
		}
	}
	r.Registry, r.Repository = "docker.io", name
	if first, rest, ok := strings.Cut(name, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Registry, r.Repository = first, rest
		if !reHost.MatchString(first) {
			return r, inputErrorf("image reference %q: invalid registry host %q", ref, first)
		}
	}
	if !rePath.MatchString(r.Repository) {
		return r, inputErrorf("image reference %q: invalid repository name %q (lowercase letters, digits and separators only)", ref, r.Repository)
	}
	if dockerHubs[r.Registry] {
		r.Registry = "docker.io"
		if !strings.Contains(r.Repository, "/") {
			r.Repository = "library/" + r.Repository
		}
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	if m := reECRHost.FindStringSubmatch(r.Registry); m != nil {
		r.ECRAccount, r.ECRRegion = m[1], m[2]
	}
	return r, nil
}
