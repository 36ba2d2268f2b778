package notify

// titles name each rule's failure in a few words, for subjects and headers.
// A rule's Summary says what must hold, which reads wrong as a headline.
var titles = map[string]string{
	"network.route":             "no route to the registry",
	"network.public-ip":         "no public IP on a public subnet",
	"network.vpc-endpoints":     "VPC endpoints missing or unusable",
	"network.endpoint-sg":       "endpoint security group blocks HTTPS from the task",
	"network.task-sg-egress":    "task security group blocks outbound HTTPS",
	"network.nacl":              "network ACL blocks HTTPS",
	"network.endpoint-policy":   "VPC endpoint policy blocks the pull",
	"dns.vpc-dns":               "VPC DNS turned off",
	"dns.dhcp-options":          "DHCP options break name resolution",
	"iam.execution-role":        "no usable execution role",
	"iam.ecr-pull":              "execution role may not pull from ECR",
	"iam.repository-policy":     "repository policy denies the pull",
	"iam.secrets":               "execution role may not read the task's secrets",
	"image.repository":          "ECR repository not found",
	"image.tag":                 "image tag not found",
	"image.platform":            "image has no manifest for the task's platform",
	"image.registry-rate-limit": "registry rate limit reached",
	"image.registry-auth":       "private registry credentials missing",
}
