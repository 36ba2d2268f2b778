package account

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// RepoKey names one ECR repository: its registry (account and region) and its
// name. An image resolves to the key of its own registry, so two repositories
// of one name in two accounts or regions stay apart. "" means unknown.
type RepoKey struct{ Account, Region, Name string }

// RepoOf is the repository an ECR image reference pulls from.
func RepoOf(ref event.ImageRef) RepoKey {
	return RepoKey{Account: ref.ECRAccount, Region: ref.ECRRegion, Name: ref.Repository}
}

// String is the qualified key, ACCOUNT/REGION/name.
func (k RepoKey) String() string { return k.Account + "/" + k.Region + "/" + k.Name }

// matches reports whether two keys can name the same repository: the names
// are equal, and so are account and region where both are known.
func (k RepoKey) matches(o RepoKey) bool {
	same := func(a, b string) bool { return a == "" || b == "" || a == b }
	return k.Name == o.Name && same(k.Account, o.Account) && same(k.Region, o.Region)
}

var (
	reAccountID = regexp.MustCompile(`^[0-9]{12}$`)
	reRegion    = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-[0-9]+$`)
)

// repoKeyForms lists the spellings ParseRepoKey reads, for error messages.
const repoKeyForms = "the repository name, ACCOUNT/REGION/name, its ARN (arn:aws:ecr:REGION:ACCOUNT:repository/name) or its URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/name)"

// ParseRepoKey reads a key of ecr.images, ecr.repositoryPolicies or
// ecr.imageManifests: a bare repository name (Account and Region left
// unknown), ACCOUNT/REGION/name, the repositoryArn or the repositoryUri that
// DescribeRepositories prints.
func ParseRepoKey(s string) (RepoKey, error) {
	switch first, rest, _ := strings.Cut(s, "/"); {
	case s == "":
		return RepoKey{}, fmt.Errorf("empty key: expected %s", repoKeyForms)
	case strings.HasPrefix(s, "arn:"):
		a, err := arn.Parse(s)
		name, ok := strings.CutPrefix(a.Resource, "repository/")
		if err != nil || a.Service != "ecr" || !ok || name == "" || !reAccountID.MatchString(a.AccountID) || !reRegion.MatchString(a.Region) {
			return RepoKey{}, fmt.Errorf("%q is not an ECR repository ARN (arn:aws:ecr:REGION:ACCOUNT:repository/name)", s)
		}
		return RepoKey{Account: a.AccountID, Region: a.Region, Name: name}, nil
	case strings.Contains(first, "."):
		// A repositoryUri is an image reference without tag or digest.
		ref, err := event.ParseImageRef(s)
		if err != nil || !ref.IsECR() || strings.ContainsAny(rest, ":@") {
			return RepoKey{}, fmt.Errorf("%q is not an ECR repository URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/name, without tag or digest)", s)
		}
		return RepoOf(ref), nil
	case reAccountID.MatchString(first):
		region, name, _ := strings.Cut(rest, "/")
		if !reRegion.MatchString(region) || name == "" {
			return RepoKey{}, fmt.Errorf("%q starts with an account but is not ACCOUNT/REGION/name", s)
		}
		return RepoKey{Account: first, Region: region, Name: name}, nil
	}
	return RepoKey{Name: s}, nil
}

// keyOf is the key of a DescribeRepositories entry: the account from
// registryId (else the ARN), the region from the ARN (else the URI).
func keyOf(r ecrtypes.Repository) RepoKey {
	k := RepoKey{Account: aws.ToString(r.RegistryId), Name: aws.ToString(r.RepositoryName)}
	if a, err := arn.Parse(aws.ToString(r.RepositoryArn)); err == nil {
		k.Account, k.Region = cmp.Or(k.Account, a.AccountID), a.Region
	} else if u, err := ParseRepoKey(aws.ToString(r.RepositoryUri)); err == nil {
		k.Account, k.Region = cmp.Or(k.Account, u.Account), u.Region
	}
	return k
}

// own is the snapshot's own registry: the account and region it was taken in.
func (s *Snapshot) own(name string) RepoKey {
	return RepoKey{Account: s.Account, Region: s.Region, Name: name}
}

// bareHome resolves a bare repository name to its registry: the snapshot's
// own when `repositories` lists the name there (or nowhere), else the one
// registry it is listed in. Listed in several others, the name is ambiguous.
func (s *Snapshot) bareHome(name string) (RepoKey, error) {
	own := s.own(name)
	var listed []RepoKey
	for _, r := range s.ECR.Repositories {
		k := keyOf(r)
		if k.Name != name {
			continue
		}
		if s.Account != "" && k.matches(own) {
			return own, nil
		}
		listed = append(listed, k)
	}
	switch len(listed) {
	case 0:
		return own, nil
	case 1:
		return listed[0], nil
	}
	var where []string
	for _, k := range listed {
		where = append(where, k.String())
	}
	return own, fmt.Errorf("repositories lists %q in several registries (%s): write the key as ACCOUNT/REGION/name", name, strings.Join(where, ", "))
}

// ecrKey is the key pullmedic writes for a repository, ACCOUNT/REGION/name:
// it says where the repository is without help from the rest of the file, so
// a live collection writes the same key whatever order its reads finish in.
// A repository whose registry is unknown keeps its bare name.
func ecrKey(k RepoKey) string {
	if k.Account == "" || k.Region == "" {
		return k.Name
	}
	return k.String()
}

// lookupECR finds a repository's entry in one of the ECR section's maps. A
// loaded snapshot holds the keys ecrKey writes; a bare name set in memory (a
// test's facts) counts where bareHome places it, as it would on loading.
func lookupECR[V any](s *Snapshot, m map[string]V, k RepoKey) (V, bool) {
	if v, ok := m[k.String()]; ok {
		return v, true
	}
	if v, ok := m[k.Name]; ok {
		if home, _ := s.bareHome(k.Name); home.matches(k) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// Repository returns the ECR repository k names, or nil.
func (s *Snapshot) Repository(k RepoKey) *ecrtypes.Repository {
	for i, r := range s.ECR.Repositories {
		if keyOf(r).matches(k) {
			return &s.ECR.Repositories[i]
		}
	}
	return nil
}

// Images returns the DescribeImages answers of repository k.
func (s *Snapshot) Images(k RepoKey) []ecrtypes.ImageDetail {
	v, _ := lookupECR(s, s.ECR.Images, k)
	return v
}

// RepositoryPolicy returns the policy text of repository k, "" when it has none.
func (s *Snapshot) RepositoryPolicy(k RepoKey) string {
	v, _ := lookupECR(s, s.ECR.RepositoryPolicies, k)
	return v
}

// ImageManifests returns the BatchGetImage answers of repository k.
func (s *Snapshot) ImageManifests(k RepoKey) []ecrtypes.Image {
	v, _ := lookupECR(s, s.ECR.ImageManifests, k)
	return v
}
