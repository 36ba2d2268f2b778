package account

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// imageReads read each private ECR image of the task in its registry's
// account and region: the image itself, and once per repository the
// repository and its policy. What DescribeImages answers decides the rest
// (see describeImage), so a typical task, whose single-platform image
// exists, costs no further call. An image outside ECR that most likely
// meant one (event.NearECR) costs one read, of the meant repository, so
// image.repository can say whether it exists; other images outside ECR
// have nothing to read, and a malformed reference is for the image rules to
// report.
func (c *collector) imageReads() []read {
	var reads []read
	repos := map[string]bool{}
	var refs, meant []event.ImageRef
	for _, img := range c.t.Images() {
		ref, err := event.ParseImageRef(img)
		switch {
		case err != nil:
		case ref.IsECR():
			refs = append(refs, ref)
		default:
			// A name without a registry is Docker Hub's unless the registry said
			// the image is not there (image.repository judges it only then).
			if nm, ok := event.NearECR(ref, c.t.Account, c.t.Region); ok && (!nm.Implicit || c.t.Class == event.ClassImage) {
				meant = append(meant, nm.Meant)
			}
		}
	}
	caches := &cacheRuleReads{c: c, refs: refs, read: map[string]bool{}}
	for _, ref := range refs {
		client := c.l.clients.ECR(c.l.regional(ref.ECRRegion))
		pinned := pulledDigest(c.t, ref.Raw)
		reads = append(reads, gate(func(ctx context.Context) []read { return c.describeImage(ctx, client, ref, pinned, caches) }))
		if key := registryKey(ref) + "/" + ref.Repository; !repos[key] {
			repos[key] = true
			reads = append(reads,
				leaf(func(ctx context.Context) { c.describeRepository(ctx, client, ref) }),
				leaf(func(ctx context.Context) { c.getRepositoryPolicy(ctx, client, ref) }))
		}
	}
	for _, ref := range meant {
		if key := registryKey(ref) + "/" + ref.Repository; !repos[key] {
			repos[key] = true
			client := c.l.clients.ECR(c.l.regional(ref.ECRRegion))
			reads = append(reads, leaf(func(ctx context.Context) { c.describeRepository(ctx, client, ref) }))
		}
	}
	return reads
}

// pulledDigest is the digest the task was to pull for an image (see
// event.Task.PulledDigest), or "" when the event does not say.
func pulledDigest(t *event.Task, image string) string {
	for _, ct := range t.Containers {
		if ct.Image != image {
			continue
		}
		if d := t.PulledDigest(ct.Name); d != "" {
			return d
		}
	}
	return ""
}

// registryKey names an ECR registry: an account in a region.
func registryKey(ref event.ImageRef) string { return ref.ECRAccount + "/" + ref.ECRRegion }

// The ECR reads treat a missing repository, image or policy as absent, not as
// a failure: judging that is what the image and policy rules are for.

func (c *collector) describeRepository(ctx context.Context, client ECRAPI, ref event.ImageRef) {
	repos, err := allPages(ctx, ecr.NewDescribeRepositoriesPaginator(client, &ecr.DescribeRepositoriesInput{
		RegistryId: aws.String(ref.ECRAccount), RepositoryNames: []string{ref.Repository},
	}), func(o *ecr.DescribeRepositoriesOutput) []ecrtypes.Repository { return o.Repositories })
	if !c.check(SrcRepository, "ecr:DescribeRepositories "+ref.Repository, err, "RepositoryNotFoundException") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.f.ECR.Repositories = append(c.f.ECR.Repositories, repos...)
}

// describeImage gates two reads. A repository that does not exist (or an
// image that could not be read) may be one a pull-through cache creates on
// the first pull: its registry's cache rules follow. A tag missing from an
// existing repository, the common failure, costs no further call. An image
// index (a multi-platform image) is fetched itself, because only the index
// lists the platforms the image has.
//
// pinned is the digest the task pulled when the event names one (for a
// service, the digest ECS resolved the tag to at deployment): that image is
// read instead of the tag's, and only when it is gone is the tag read too, so
// image.tag can tell a tag that moved on from one that is gone.
func (c *collector) describeImage(ctx context.Context, client ECRAPI, ref event.ImageRef, pinned string, caches *cacheRuleReads) []read {
	id := ecrtypes.ImageIdentifier{ImageTag: aws.String(ref.Tag)}
	switch {
	case pinned != "":
		id = ecrtypes.ImageIdentifier{ImageDigest: aws.String(pinned)}
	case ref.Digest != "": // ECS pulls by digest when the reference has one
		id = ecrtypes.ImageIdentifier{ImageDigest: aws.String(ref.Digest)}
	}
	images, err := allPages(ctx, ecr.NewDescribeImagesPaginator(client, &ecr.DescribeImagesInput{
		RegistryId: aws.String(ref.ECRAccount), RepositoryName: aws.String(ref.Repository), ImageIds: []ecrtypes.ImageIdentifier{id},
	}), func(o *ecr.DescribeImagesOutput) []ecrtypes.ImageDetail { return o.ImageDetails })
	if !c.check(SrcImages, "ecr:DescribeImages "+ref.Raw, err, "ImageNotFoundException", "RepositoryNotFoundException") {
		if errorCode(err) == "ImageNotFoundException" {
			if pinned != "" && pinned != ref.Digest {
				return []read{gate(func(ctx context.Context) []read { return c.describeImage(ctx, client, ref, "", caches) })}
			}
			return nil
		}
		return caches.once(client, ref)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f.ECR.Images == nil {
		c.f.ECR.Images = map[string][]ecrtypes.ImageDetail{}
	}
	c.f.ECR.Images[ecrKey(RepoOf(ref))] = append(c.f.ECR.Images[ecrKey(RepoOf(ref))], images...)
	var next []read
	for _, d := range images {
		if IsImageIndex(aws.ToString(d.ImageManifestMediaType)) {
			digest := aws.ToString(d.ImageDigest)
			next = append(next, leaf(func(ctx context.Context) { c.batchGetImage(ctx, client, ref, digest) }))
		}
	}
	return next
}

// imageIndexMediaTypes are the media types of a multi-platform image: a Docker
// manifest list and an OCI image index.
var imageIndexMediaTypes = []string{
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.index.v1+json",
}

// IsImageIndex reports whether a manifest media type is a multi-platform index.
func IsImageIndex(mediaType string) bool {
	return slices.Contains(imageIndexMediaTypes, strings.ToLower(mediaType))
}

// batchGetImage fetches an image index. BatchGetImage is what a pull calls to
// get the manifest; acceptedMediaTypes asks for the index itself instead of
// one platform's manifest (Amazon ECR API Reference, BatchGetImage).
func (c *collector) batchGetImage(ctx context.Context, client ECRAPI, ref event.ImageRef, digest string) {
	api := "ecr:BatchGetImage " + ref.Repository + "@" + digest
	out, err := client.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RegistryId: aws.String(ref.ECRAccount), RepositoryName: aws.String(ref.Repository),
		ImageIds:           []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(digest)}},
		AcceptedMediaTypes: imageIndexMediaTypes,
	})
	if !c.check(SrcImageManifests, api, err, "ImageNotFoundException", "RepositoryNotFoundException") {
		return
	}
	for _, f := range out.Failures {
		// An image deleted since DescribeImages is absent, like any other.
		if f.FailureCode != ecrtypes.ImageFailureCodeImageNotFound {
			c.fail(SrcImageManifests, api, fmt.Errorf("%s: %s", f.FailureCode, aws.ToString(f.FailureReason)))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f.ECR.ImageManifests == nil {
		c.f.ECR.ImageManifests = map[string][]ecrtypes.Image{}
	}
	c.f.ECR.ImageManifests[ecrKey(RepoOf(ref))] = append(c.f.ECR.ImageManifests[ecrKey(RepoOf(ref))], out.Images...)
}

// cacheRuleReads reads each registry's pull-through cache rules at most once
// per Collect, however many of the task's images are missing from it.
type cacheRuleReads struct {
	c    *collector
	refs []event.ImageRef // the task's ECR images
	mu   sync.Mutex
	read map[string]bool // registryKey → read started
}

func (r *cacheRuleReads) once(client ECRAPI, ref event.ImageRef) []read {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := registryKey(ref)
	if r.read[key] {
		return nil
	}
	r.read[key] = true
	return []read{gate(func(ctx context.Context) []read { return r.describe(ctx, client, ref) })}
}

// describe reads the rules of ref's registry, then the upstream credential
// secret of each rule that covers one of the task's images (credentialArn,
// Amazon ECR API Reference, PullThroughCacheRule), through the collector's
// own DescribeSecret read: ECR signs in upstream with it on every import.
func (r *cacheRuleReads) describe(ctx context.Context, client ECRAPI, ref event.ImageRef) []read {
	c := r.c
	rules, err := allPages(ctx, ecr.NewDescribePullThroughCacheRulesPaginator(client, &ecr.DescribePullThroughCacheRulesInput{
		RegistryId: aws.String(ref.ECRAccount), MaxResults: c.l.maxResults(),
	}), func(o *ecr.DescribePullThroughCacheRulesOutput) []ecrtypes.PullThroughCacheRule {
		return o.PullThroughCacheRules
	})
	if !c.check(SrcPullThroughCache, "ecr:DescribePullThroughCacheRules "+registryKey(ref), err) {
		return nil
	}
	c.mu.Lock()
	c.f.ECR.PullThroughCacheRules = append(c.f.ECR.PullThroughCacheRules, rules...)
	c.mu.Unlock()
	section := ECRSection{PullThroughCacheRules: rules}
	var next []read
	secrets := map[string]bool{}
	for _, img := range r.refs {
		rule := section.PullThroughCacheRule(img.ECRAccount, img.Repository)
		if registryKey(img) != registryKey(ref) || rule == nil {
			continue
		}
		if id := aws.ToString(rule.CredentialArn); id != "" && !secrets[id] {
			secrets[id] = true
			region := ref.ECRRegion
			if a, err := arn.Parse(id); err == nil && a.Region != "" {
				region = a.Region
			}
			next = append(next, leaf(func(ctx context.Context) { c.describeSecret(ctx, region, id) }))
		}
	}
	return next
}

func (c *collector) getRepositoryPolicy(ctx context.Context, client ECRAPI, ref event.ImageRef) {
	out, err := client.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{
		RegistryId: aws.String(ref.ECRAccount), RepositoryName: aws.String(ref.Repository),
	})
	if !c.check(SrcRepositoryPolicy, "ecr:GetRepositoryPolicy "+ref.Repository, err, "RepositoryPolicyNotFoundException", "RepositoryNotFoundException") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f.ECR.RepositoryPolicies == nil {
		c.f.ECR.RepositoryPolicies = map[string]string{}
	}
	c.f.ECR.RepositoryPolicies[ecrKey(RepoOf(ref))] = aws.ToString(out.PolicyText)
}

func (c *collector) sortECR() {
	sortBy(c.f.ECR.Repositories, func(r ecrtypes.Repository) *string { return r.RepositoryArn })
	sortBy(c.f.ECR.PullThroughCacheRules, func(r ecrtypes.PullThroughCacheRule) *string {
		return aws.String(aws.ToString(r.RegistryId) + "/" + aws.ToString(r.EcrRepositoryPrefix))
	})
	for _, imgs := range c.f.ECR.ImageManifests {
		sortBy(imgs, func(i ecrtypes.Image) *string {
			if i.ImageId == nil {
				return nil
			}
			return i.ImageId.ImageDigest
		})
	}
	for repo, imgs := range c.f.ECR.Images {
		sortBy(imgs, func(d ecrtypes.ImageDetail) *string { return d.ImageDigest })
		// Two tags of one image each found it.
		c.f.ECR.Images[repo] = slices.CompactFunc(imgs, func(a, b ecrtypes.ImageDetail) bool {
			return aws.ToString(a.ImageDigest) == aws.ToString(b.ImageDigest)
		})
	}
}
