package account

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// canonicalECR rewrites the keys of ecr.images, ecr.repositoryPolicies and
// ecr.imageManifests to the ones pullmedic writes (ecrKey), so each entry
// belongs to one repository in one registry. It refuses a key that is not
// one of ParseRepoKey's forms, a bare name listed in several registries,
// two keys for one repository, and a value that says it is about another
// repository than its key; it reads a repository policy given as the whole
// get-repository-policy output.
func (s *Snapshot) canonicalECR() *SnapshotError {
	var err *SnapshotError
	if s.ECR.Images, err = rekey(s, "images", s.ECR.Images, checkImages); err != nil {
		return err
	}
	if s.ECR.ImageManifests, err = rekey(s, "imageManifests", s.ECR.ImageManifests, checkManifests); err != nil {
		return err
	}
	s.ECR.RepositoryPolicies, err = rekey(s, "repositoryPolicies", s.ECR.RepositoryPolicies, repositoryPolicy)
	return err
}

// rekey resolves each key of one map and lets check read its value.
func rekey[V any](s *Snapshot, section string, m map[string]V, check func(*jsonPath, RepoKey, V) (V, *SnapshotError)) (map[string]V, *SnapshotError) {
	if m == nil {
		return nil, nil
	}
	sp := &jsonPath{parent: &jsonPath{key: "ecr"}, key: section}
	out := make(map[string]V, len(m))
	from := map[string]string{}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		p := &jsonPath{parent: sp, key: key}
		k, err := ParseRepoKey(key)
		if err != nil {
			return nil, p.errorf("bad key: %v", err)
		}
		if k.Account == "" {
			if k, err = s.bareHome(k.Name); err != nil {
				return nil, p.errorf("%v", err)
			}
		}
		v, serr := check(p, k, m[key])
		if serr != nil {
			return nil, serr
		}
		c := ecrKey(k)
		if prev, dup := from[c]; dup {
			return nil, p.errorf("names repository %s, as key %q does: give each repository once", k, prev)
		}
		from[c], out[c] = key, v
	}
	return out, nil
}

// checkAbout refuses a value whose registryId or repositoryName (as
// DescribeImages and BatchGetImage print them) is not its key's repository.
func checkAbout(p *jsonPath, k RepoKey, registryID, name *string) *SnapshotError {
	if id := aws.ToString(registryID); id != "" && k.Account != "" && id != k.Account {
		return (&jsonPath{parent: p, key: "registryId"}).errorf("%q is not the account of its key's repository %s: key it %s/REGION/%s", id, k, id, k.Name)
	}
	if n := aws.ToString(name); n != "" && n != k.Name {
		return (&jsonPath{parent: p, key: "repositoryName"}).errorf("%q is not its key's repository %q", n, k.Name)
	}
	return nil
}

func checkImages(p *jsonPath, k RepoKey, images []ecrtypes.ImageDetail) ([]ecrtypes.ImageDetail, *SnapshotError) {
	for i, d := range images {
		if err := checkAbout(&jsonPath{parent: p, index: i}, k, d.RegistryId, d.RepositoryName); err != nil {
			return nil, err
		}
	}
	return images, nil
}

func checkManifests(p *jsonPath, k RepoKey, images []ecrtypes.Image) ([]ecrtypes.Image, *SnapshotError) {
	for i, m := range images {
		if err := checkAbout(&jsonPath{parent: p, index: i}, k, m.RegistryId, m.RepositoryName); err != nil {
			return nil, err
		}
	}
	return images, nil
}

// repositoryPolicyShapes names what a repositoryPolicies value may be.
const repositoryPolicyShapes = `the policy text (get-repository-policy's "policyText"), the policy document as an object, or the whole output of ` +
	"`aws ecr get-repository-policy` ({\"registryId\", \"repositoryName\", \"policyText\"})"

// repositoryPolicy reads a repositoryPolicies value. The loader stored it as
// text (an object as compact JSON); a policy document is kept as it is, the
// whole get-repository-policy output gives its policyText. Anything else
// would reach iam.repository-policy as a policy it cannot read, and a
// cross-account pull with it would look merely unjudgeable.
func repositoryPolicy(p *jsonPath, k RepoKey, text string) (string, *SnapshotError) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", p.errorf("expected %s, got text that is not JSON: %s", repositoryPolicyShapes, describe(text))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", p.errorf("expected %s, got %s", repositoryPolicyShapes, describe(v))
	}
	for _, key := range []string{"Statement", "Version", "Id"} {
		if _, _, ok := field(obj, key); ok {
			return text, nil
		}
	}
	pk, inner, ok := field(obj, "policyText")
	if !ok {
		return "", p.errorf("expected %s, got an object with keys %s", repositoryPolicyShapes, strings.Join(slices.Sorted(maps.Keys(obj)), ", "))
	}
	var about struct{ RegistryID, RepositoryName *string }
	for key, dst := range map[string]**string{"registryId": &about.RegistryID, "repositoryName": &about.RepositoryName} {
		if _, v, ok := field(obj, key); ok {
			if s, isStr := v.(string); isStr {
				*dst = &s
			}
		}
	}
	if err := checkAbout(p, k, about.RegistryID, about.RepositoryName); err != nil {
		return "", err
	}
	pp := &jsonPath{parent: p, key: pk}
	switch inner := inner.(type) {
	case string:
		return repositoryPolicy(pp, k, inner)
	case map[string]any:
		// Stored as the loader stores any document given as an object.
		b, err := json.Marshal(inner)
		if err != nil {
			return "", pp.errorf("%v", err)
		}
		return repositoryPolicy(pp, k, string(b))
	}
	return "", pp.errorf("expected the policy text or document, got %s", describe(inner))
}
