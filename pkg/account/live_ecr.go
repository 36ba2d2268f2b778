package account

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// imageReads read each private ECR image of the task in its registry's
// account and region: the image itself, and once per repository the
// repository and its policy. Images outside ECR have nothing to read, and a
// malformed reference is for the image rules to report.
func (c *collector) imageReads() []read {
	var reads []read
	repos := map[string]bool{}
	for _, img := range c.t.Images() {
		ref, err := event.ParseImageRef(img)
		if err != nil || !ref.IsECR() {
			continue
		}
		client := c.l.clients.ECR(c.l.regional(ref.ECRRegion))
		reads = append(reads, leaf(func(ctx context.Context) { c.describeImage(ctx, client, ref) }))
		if key := ref.ECRAccount + "/" + ref.ECRRegion + "/" + ref.Repository; !repos[key] {
			repos[key] = true
			reads = append(reads,
				leaf(func(ctx context.Context) { c.describeRepository(ctx, client, ref) }),
				leaf(func(ctx context.Context) { c.getRepositoryPolicy(ctx, client, ref) }))
		}
	}
	return reads
}

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

func (c *collector) describeImage(ctx context.Context, client ECRAPI, ref event.ImageRef) {
	id := ecrtypes.ImageIdentifier{ImageTag: aws.String(ref.Tag)}
	if ref.Digest != "" { // ECS pulls by digest when the reference has one
		id = ecrtypes.ImageIdentifier{ImageDigest: aws.String(ref.Digest)}
	}
	images, err := allPages(ctx, ecr.NewDescribeImagesPaginator(client, &ecr.DescribeImagesInput{
		RegistryId: aws.String(ref.ECRAccount), RepositoryName: aws.String(ref.Repository), ImageIds: []ecrtypes.ImageIdentifier{id},
	}), func(o *ecr.DescribeImagesOutput) []ecrtypes.ImageDetail { return o.ImageDetails })
	if !c.check(SrcImages, "ecr:DescribeImages "+ref.Raw, err, "ImageNotFoundException", "RepositoryNotFoundException") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f.ECR.Images == nil {
		c.f.ECR.Images = map[string][]ecrtypes.ImageDetail{}
	}
	c.f.ECR.Images[ref.Repository] = append(c.f.ECR.Images[ref.Repository], images...)
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
	c.f.ECR.RepositoryPolicies[ref.Repository] = aws.ToString(out.PolicyText)
}

func (c *collector) sortECR() {
	sortBy(c.f.ECR.Repositories, func(r ecrtypes.Repository) *string { return r.RepositoryArn })
	for repo, imgs := range c.f.ECR.Images {
		sortBy(imgs, func(d ecrtypes.ImageDetail) *string { return d.ImageDigest })
		// Two tags of one image each found it.
		c.f.ECR.Images[repo] = slices.CompactFunc(imgs, func(a, b ecrtypes.ImageDetail) bool {
			return aws.ToString(a.ImageDigest) == aws.ToString(b.ImageDigest)
		})
	}
}
