package rules

// Catalog is the explicit registry, in evaluation and report order.
// IDs are a public contract: never rename or reuse one.
var Catalog = []Rule{
	NetworkRoute,
	NetworkPublicIP,
	NetworkVPCEndpoints,
	NetworkEndpointSG,
	NetworkTaskSGEgress,
	NetworkNACL,
	NetworkEndpointPolicy,
	DNSVPCDNS,
	DNSDHCPOptions,
	IAMExecutionRole,
	IAMECRPull,
	IAMRepositoryPolicy,
	IAMSecrets,
	ImageRepository,
	ImageTag,
	ImagePlatform,
	ImageRegistryRateLimit,
	ImageRegistryAuth,
	ImagePullThroughCache,
	HostAgent,
	HostStorage,
}
