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

// ECRNearMiss is an image reference that most likely meant a private ECR
// image but names another registry.
type ECRNearMiss struct {
	// Meant is the private ECR reference the image most likely meant.
	Meant ImageRef
	// Implicit is set when the reference names no registry at all, so the
	// pull went to Docker Hub. Such a name is only a near miss when Meant's
	// repository exists, which the caller must check; a misspelled ECR host
	// is one by its spelling.
	Implicit bool
}

// maxHostEdits is how far a registry host may be from an ECR host and still
// count as a near miss. Leaving out "dkr." or "ecr." is four edits; hosts of
// other registries are much further.
const maxHostEdits = 4

var (
	reAccount = regexp.MustCompile(`^[0-9]{12}$`)
	reRegion  = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-[0-9]+$`)
	// ECR's dual-stack registry host, ACCOUNT.dkr-ecr.REGION.on.aws, is
	// real, not a near miss (Amazon ECR User Guide, "Making requests to
	// Amazon ECR registries": https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html).
	reECRDualStack = regexp.MustCompile(`^[0-9]{12}\.dkr-ecr\.[a-z0-9-]+\.on\.aws$`)
)

// NearECR returns the private ECR reference that r most likely meant, given
// the account and region the task runs in: for a registry host a few edits
// from ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn] ("amazonaws.con", a
// doubled letter, a host without its account), the host spelled right; for a
// reference with no registry, which Docker Hub serves, the same name in the
// task's own registry. The second result is false when r is not a near miss:
// an ECR image, a registry with a port, one far from any ECR host, or a
// registry named on purpose (docker.io/...).
func NearECR(r ImageRef, account, region string) (ECRNearMiss, bool) {
	if r.IsECR() || !reAccount.MatchString(account) || !reRegion.MatchString(region) {
		return ECRNearMiss{}, false
	}
	name, implicit := writtenName(r)
	host := ""
	if implicit {
		host = account + ".dkr.ecr." + region + ".amazonaws.com"
		if strings.HasPrefix(region, "cn-") {
			host += ".cn"
		}
	} else {
		host = nearestECRHost(strings.ToLower(r.Registry), account, region)
	}
	if host == "" {
		return ECRNearMiss{}, false
	}
	meant := host + "/" + name
	if r.Digest != "" {
		meant += "@" + r.Digest
	} else {
		meant += ":" + r.Tag
	}
	m, err := ParseImageRef(meant)
	if err != nil || !m.IsECR() {
		return ECRNearMiss{}, false
	}
	return ECRNearMiss{Meant: m, Implicit: implicit}, true
}

// writtenName returns the repository as the reference wrote it (Docker Hub's
// "library/" added by parsing taken off again), and whether the reference
// named no registry, so the pull went to Docker Hub.
func writtenName(r ImageRef) (name string, implicit bool) {
	raw := strings.ToLower(r.Raw)
	implicit = r.Registry == "docker.io" && !strings.HasPrefix(raw, "docker.io/") && !strings.HasPrefix(raw, "index.docker.io/")
	if implicit && !strings.HasPrefix(raw, "library/") {
		return strings.TrimPrefix(r.Repository, "library/"), true
	}
	return r.Repository, implicit
}

// nearestECRHost returns the ECR host within maxHostEdits of host, or "" if
// there is none or host is one already. Candidates use the host's own
// account label and region when it has them, else the task's: a missing
// account costs nothing, since the task's own registry is the likely meaning.
func nearestECRHost(host, account, region string) string {
	if strings.ContainsAny(host, ":[]") || reECRDualStack.MatchString(host) {
		return ""
	}
	rest, cost := host, 0
	if first, after, ok := strings.Cut(host, "."); ok && first != "" && strings.Trim(first, "0123456789") == "" {
		rest = after
		if reAccount.MatchString(first) {
			account = first
		} else {
			cost = editDistance(first, account, maxHostEdits)
		}
	}
	regions := []string{region}
	for _, label := range strings.Split(rest, ".") {
		if reRegion.MatchString(label) && label != region {
			regions = append(regions, label)
		}
	}
	best, bestDist := "", maxHostEdits+1
	for _, reg := range regions {
		for _, dkr := range []string{"dkr.ecr.", "dkr.ecr-fips."} {
			for _, suffix := range []string{".amazonaws.com", ".amazonaws.com.cn"} {
				cand := dkr + reg + suffix
				if d := cost + editDistance(rest, cand, maxHostEdits); d < bestDist {
					best, bestDist = account+"."+cand, d
				}
			}
		}
	}
	if best == host {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, or limit+1 when
// it is larger than limit.
func editDistance(a, b string, limit int) int {
	if len(a)-len(b) > limit || len(b)-len(a) > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit+1)
}
