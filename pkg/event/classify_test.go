package event

import "testing"

// reasonCases holds one or more messages for every row of docs/stop-reasons.md,
// plus stops that are not pull failures.
var reasonCases = []struct {
	name  string
	text  string
	pull  bool
	class ReasonClass
	host  string
}{
	// network
	{"fargate connection issue", sampleTimeout, true, ClassNetwork, "210987654321.dkr.ecr.eu-west-1.amazonaws.com"},
	{"request canceled", oldPlatformReason, true, ClassNetwork, "registry-1.docker.io"},
	{"head timeout", `CannotPullContainerError: inspect image has been retried 5 time(s): failed to resolve ref "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1": failed to do request: Head "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/app/manifests/1": dial tcp 10.0.1.25:443: i/o timeout`,
		true, ClassNetwork, "123456789012.dkr.ecr.us-east-1.amazonaws.com"},
	{"s3 layer timeout", `CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/b1a2-4c3d/9f8e?X-Amz-Algorithm=AWS4-HMAC-SHA256": dial tcp 52.217.10.1:443: i/o timeout`,
		true, ClassNetwork, "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"},
	{"deadline exceeded", `CannotPullContainerError: context deadline exceeded`, true, ClassNetwork, ""},
	{"context canceled", `CannotPullContainerError: failed to copy: httpReadSeeker: failed open: Context canceled`, true, ClassNetwork, ""},
	{"dial ip only", "CannotPullContainerError: dial tcp 52.95.120.5:443: i/o timeout", true, ClassNetwork, "52.95.120.5"},
	{"dial ipv6", "CannotPullContainerError: dial tcp [2600:1f18:aaaa::1]:443: i/o timeout", true, ClassNetwork, "2600:1f18:aaaa::1"},
	{"ecr.api auth timeout", `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://api.ecr.us-east-1.amazonaws.com/": dial tcp 10.0.2.15:443: i/o timeout. Please check your task network configuration.`,
		true, ClassNetwork, "api.ecr.us-east-1.amazonaws.com"},
	{"ssm timeout", `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request context canceled caused by: context deadline exceeded.`,
		true, ClassNetwork, ""},
	{"s3 endpoint policy", `CannotPullContainerError: error pulling image configuration: download failed after attempts=1: Get "https://prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com/a1b2-config": 403 Forbidden: <?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`,
		true, ClassNetwork, "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com"},
	{"s3 403 without xml", `CannotPullContainerError: error pulling image configuration: unexpected status code 403`, true, ClassNetwork, ""},
	// dns
	{"no such host", `CannotPullContainerError: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host`,
		true, ClassDNS, "registry-1.docker.io"},
	{"server misbehaving", `CannotPullContainerError: failed to do request: Head "https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/app/manifests/1": dial tcp: lookup 111122223333.dkr.ecr.us-east-1.amazonaws.com: server misbehaving`,
		true, ClassDNS, "111122223333.dkr.ecr.us-east-1.amazonaws.com"},
	{"resolver timeout", `ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve ecr registry auth: Post "https://api.ecr.eu-west-1.amazonaws.com/": dial tcp: lookup api.ecr.eu-west-1.amazonaws.com on 10.0.0.2:53: read udp 10.0.1.5:39452->10.0.0.2:53: i/o timeout`,
		true, ClassDNS, "api.ecr.eu-west-1.amazonaws.com"},
	// iam
	{"manifest 403", `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1: pulling from host 111122223333.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests 1]: 403 Forbidden`,
		true, ClassIAM, "111122223333.dkr.ecr.us-east-1.amazonaws.com"},
	{"not authorized", `CannotPullContainerError: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/ecsTaskExecutionRole/abc is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111122223333:repository/app because no resource-based policy allows the ecr:BatchGetImage action`,
		true, ClassIAM, ""},
	{"no basic auth", `CannotPullContainerError: Error response from daemon: Get https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/app/manifests/1: no basic auth credentials`,
		true, ClassIAM, "111122223333.dkr.ecr.us-east-1.amazonaws.com"},
	{"asm access denied", `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf from secrets manager: AccessDeniedException: User is not authorized to perform: secretsmanager:GetSecretValue`,
		true, ClassIAM, ""},
	{"ec2 agent curly", ec2AgentReason, true, ClassIAM, "111122223333.dkr.ecr.us-east-1.amazonaws.com"},
	{"ec2 agent straight, no error name", `The task can't pull the image. Check that the role has the permissions to pull images from the registry. pulling from host 111122223333.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests latest]: 403 Forbidden`,
		true, ClassIAM, "111122223333.dkr.ecr.us-east-1.amazonaws.com"},
	// image
	{"ref not found", `CannotPullContainerError: failed to resolve ref "111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1.2": 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1.2: not found`,
		true, ClassImage, ""},
	{"manifest unknown", `CannotPullContainerError: Error response from daemon: manifest for 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1.2 not found: manifest unknown: Requested image not found`,
		true, ClassImage, ""},
	{"repository not found", `CannotPullContainerError: Error response from daemon: repository 111122223333.dkr.ecr.us-east-1.amazonaws.com/nope not found: name unknown: The repository with name 'nope' does not exist in the registry with id '111122223333'`,
		true, ClassImage, ""},
	{"pull access denied", `CannotPullContainerError: Error response from daemon: pull access denied for myorg/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
		true, ClassImage, ""},
	{"platform descriptor", `CannotPullContainerError: image Manifest does not contain descriptor matching platform 'linux/arm64'`, true, ClassImage, ""},
	{"no matching manifest", `CannotPullContainerError: no matching manifest for linux/amd64 in the manifest list entries`, true, ClassImage, ""},
	// registry
	{"toomanyrequests", `CannotPullContainerError: inspect image has been retried 1 time(s): httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/latest: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
		true, ClassRegistry, "registry-1.docker.io"},
	{"429 only", `CannotPullContainerError: unexpected status code [manifests latest]: 429 Too Many Requests`, true, ClassRegistry, ""},
	{"pull-through cache", `CannotPullContainerError: UnableToGetUpstreamImageException: Unable to get the upstream image because the credentials in secret ecr-pullthroughcache/docker-hub are invalid`,
		true, ClassRegistry, ""},
	{"pull-through cache bare", `UnableToGetUpstreamImageException: upstream registry unreachable`, true, ClassRegistry, ""},
	// host and unmatched
	{"disk full", `CannotPullContainerError: failed to register layer: Error processing tar file(exit status 1): write /usr/lib/x86_64-linux-gnu/libLLVM.so: no space left on device`,
		true, ClassHost, ""},
	{"bare pull error", `CannotPullContainerError: something new`, true, ClassUnknown, ""},
	{"no room on windows", `CannotPullContainerError: ref pull has been retried 1 time(s): failed to extract layer sha256:20ba: hcsshim::ImportLayer - failed failed in Win32: There is not enough space on the disk. (0x70)`,
		true, ClassHost, ""},
	// the hard forms of issue 9
	{"ecr error name", `CannotPullECRContainerError: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/ecsInstanceRole/i-0abc is not authorized to perform: ecr:GetAuthorizationToken on resource: *`,
		true, ClassIAM, ""},
	{"ecr error name, lower case", `cannotpullecrcontainererror: ecr auth: AuthorizationData is malformed for 111122223333.dkr-ecr.us-east-1.on.aws/app`, true, ClassIAM, ""},
	{"ecr pull access denied", `CannotPullContainerError: Error response from daemon: pull access denied for 111122223333.dkr.ecr.us-east-1.amazonaws.com/app, repository does not exist or may require 'docker login'`,
		true, ClassIAM, ""},
	{"upper-case secrets", `RESOURCEINITIALIZATIONERROR: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: User is not authorized to perform: ssm:GetParameters`,
		true, ClassIAM, ""},
	{"platform descriptor (containerd)", `CannotPullContainerError: failed to find a descriptor for platform {linux/arm64}`, true, ClassImage, ""},
	{"windows build", `CannotPullContainerError: a Windows version 10.0.20348-based image is incompatible with a 10.0.17763 host`, true, ClassImage, ""},
	{"unknown blob", `CannotPullContainerError: failed to copy: httpReadSeeker: failed open: unexpected status code https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/app/blobs/sha256:9f8e: 404 Not Found - Server message: unknown blob`,
		true, ClassImage, "111122223333.dkr.ecr.us-east-1.amazonaws.com"},
	{"mismatched rootfs", `cannotPullContainerError: ref pull has been retried 1 time(s): failed to unpack image on snapshotter overlayfs: mismatched image rootfs and manifest layers`, true, ClassImage, ""},
	{"5xx from a public registry", `CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/blobs/sha256:69e5: 504 Gateway Time-out`,
		true, ClassRegistry, "registry-1.docker.io"},
	{"head request to", `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ghcr.io/acme/web:2: unexpected status from HEAD request to https://ghcr.io/v2/acme/web/manifests/2: 503 Service Unavailable`,
		true, ClassRegistry, "ghcr.io"},
	{"auth.docker.io", `CannotPullContainerError: failed to resolve ref docker.io/library/nginx:1: failed to authorize: failed to fetch anonymous token: Get "https://auth.docker.io/token?scope=repository%3Alibrary%2Fnginx%3Apull&service=registry.docker.io": dial tcp 3.94.224.37:443: i/o timeout`,
		true, ClassNetwork, "auth.docker.io"},
	{"post to api.ecr", `ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. Check your task network configuration. operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post "https://api.ecr.eu-west-3.amazonaws.com/": dial tcp 35.180.244.40:443: i/o timeout.`,
		true, ClassNetwork, "api.ecr.eu-west-3.amazonaws.com"},
	// cut off by the console
	{"cut host", `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 5 time(s): RequestError: send request failed caused by: Post https://api.ecr....`,
		true, ClassNetwork, ""},
	{"cut last word", `CannotPullContainerError: containerd: pull command failed: time="2020-01-01T00:00:00Z" level=info msg="apply failure, attempting cleanup" error="failed to extract layer sha256:ab12: context ca...`,
		true, ClassNetwork, ""},
	{"cut layer write", `CannotPullContainerError: containerd: pull command failed: time="2021-08-20T13:58:49Z" level=info msg="apply failure, attempting cleanup" error="failed to extract layer sha256:e246: write /var...`,
		true, ClassHost, ""},
	{"cut status of a public registry", `CannotPullContainerError: inspect image has been retried 5 time(s): httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/amazon/aws-for-fluent-bit/manifests/sha256:330a24bcd4e0...`,
		true, ClassRegistry, "registry-1.docker.io"},
	{"cut S3 config fetch", `CannotPullContainerError: error pulling image configuration: Get https://prod-us-east-1-starport-layer-bucket.s3.amazonaws.com/61d6a6b7/d834cc02?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-A`,
		true, ClassNetwork, "prod-us-east-1-starport-layer-bucket.s3.amazonaws.com"},
	{"cut secrets after retries", `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch`,
		true, ClassNetwork, ""},
	{"cut at 255 without an ellipsis", cutAt255, true, ClassDNS, "111122223333.dkr.ecr.us-east-1.amazonaws.com"},
	// not pull failures
	{"essential exited", "Essential container in task exited", false, ClassUnknown, ""},
	{"user stop", "Task stopped by user", false, ClassUnknown, ""},
	{"deployment", "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", false, ClassUnknown, ""},
	{"log group", "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.", false, ClassImage, ""},
	{"spot", "Your Spot Task was interrupted.", false, ClassUnknown, ""},
}

// cutAt255 is a DNS failure as the console shows it: cut at 255 characters in
// the middle of the name being resolved, which must not be reported.
var cutAt255 = (`CannotPullContainerError: failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1: ` +
	`failed to do request: Head "https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/app/manifests/1": dial tcp: lookup 111122223333.dkr.ecr.us-east-1.amazonaws.com: no such host`)[:consoleLimit]

func TestClassify(t *testing.T) {
	for _, rc := range reasonCases {
		t.Run(rc.name, func(t *testing.T) {
			class, host := Classify(rc.text + "\n")
			if class != rc.class || host != rc.host {
				t.Errorf("Classify = %s, %q; want %s, %q", class, host, rc.class, rc.host)
			}
			if got := IsPullFailure(rc.text); got != rc.pull {
				t.Errorf("IsPullFailure = %v, want %v", got, rc.pull)
			}
		})
	}
}
