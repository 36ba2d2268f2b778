package main

// The bases and the IDs the variants change.
const (
	natBase       = "healthy-nat"
	endpointsBase = "healthy-endpoints"

	natVPC        = "vpc-0c5e1d2a3b4f56789"
	natPublicNet  = "subnet-0e9f8a7b6c5d4e3f2"
	natPrivateRTB = "rtb-0bb22cc33dd44ee55"
	natGateway    = "nat-0123456789abcdef0"
	natTaskSG     = "sg-0123abcd4567ef890"
	natTaskENI    = "eni-0a7b8c9d0e1f23456"
	natPrivateA   = "subnet-0a1b2c3d4e5f60718"
	natPrivateB   = "subnet-0b2c3d4e5f6071829"
	execRoleNAT   = "ecsTaskExecutionRole"
	shopWebImage  = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web"

	epVPC      = "vpc-0e1f2a3b4c5d6e7f8"
	epTaskENI  = "eni-0b8c9d0e1f2a34567"
	epTaskNet  = "subnet-0c3d4e5f607182930"
	epTaskSG   = "sg-0a9b8c7d6e5f43210"
	epEndptSG  = "sg-0e4d3c2b1a0987654"
	epS3       = "vpce-0d1d2d3d4d5d6d7d8"
	ecrTimeout = "CannotPullContainerError: The task cannot pull 111122223333.dkr.ecr.eu-west-1.amazonaws.com/payments/ledger:2026.03.1 from the registry 111122223333.dkr.ecr.eu-west-1.amazonaws.com. There is a connection issue between the task and the registry. Check your task network configuration. : failed to copy: httpReadSeeker: failed open: failed to do request: Get \"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/payments/ledger/manifests/2026.03.1\": dial tcp 52.95.150.10:443: i/o timeout"
)

type variant struct {
	name   string
	base   string
	reason string // the event's stoppedReason; "" keeps the base's
	edit   func(d *doc)
}

// taskENI is the task's ENI as DescribeNetworkInterfaces shows it while the
// stopped task's attachment is being cleaned up; standalone tasks need it for their groups.
func taskENI(id, subnet, vpc, ip, sg, sgName string) any {
	return obj(`{
  "Attachment": {"AttachTime": "2026-03-12T02:00:04+00:00", "AttachmentId": "ela-attach-0f9e8d7c6b5a43210", "DeleteOnTermination": false, "DeviceIndex": 1, "NetworkCardIndex": 0, "InstanceOwnerId": "578734482556", "Status": "attached"},
  "AvailabilityZone": "eu-west-1a",
  "Description": "arn:aws:ecs:eu-west-1:111122223333:attachment/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
  "Groups": [{"GroupName": "` + sgName + `", "GroupId": "` + sg + `"}],
  "InterfaceType": "interface",
  "Ipv6Addresses": [],
  "MacAddress": "0a:5b:3c:7d:1e:2f",
  "NetworkInterfaceId": "` + id + `",
  "OwnerId": "111122223333",
  "PrivateIpAddress": "` + ip + `",
  "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": "` + ip + `"}],
  "RequesterId": "578734482556",
  "RequesterManaged": true,
  "SourceDestCheck": true,
  "Status": "in-use",
  "SubnetId": "` + subnet + `",
  "TagSet": [],
  "VpcId": "` + vpc + `"
}`)
}

var variants = []variant{
	// --- network, NAT design ---
	{name: "public-subnet-no-public-ip", base: natBase,
		edit: func(d *doc) {
			subnets := obj(`["` + natPublicNet + `"]`)
			d.set("ecs.services[0].networkConfiguration.awsvpcConfiguration.subnets", subnets)
			d.set("ecs.services[0].deployments[0].networkConfiguration.awsvpcConfiguration.subnets", subnets)
			d.placeTask(natPublicNet, "10.20.0.87")
			d.clusterTag("enabled")
		}},
	{name: "no-route", base: natBase,
		edit: func(d *doc) {
			d.del("ec2.routeTables[RouteTableId=" + natPrivateRTB + "].Routes[DestinationCidrBlock=0.0.0.0/0]")
		}},
	{name: "nat-failed", base: natBase,
		edit: func(d *doc) {
			nat := "ec2.natGateways[NatGatewayId=" + natGateway + "]"
			d.set(nat+".State", "failed")
			d.set(nat+".FailureCode", "InsufficientFreeAddressesInSubnet")
			d.set(nat+".FailureMessage", "Subnet has insufficient free addresses to create this NAT gateway")
			d.set(nat+".NatGatewayAddresses", obj(`[{"AllocationId": "eipalloc-0a1b2c3d4e5f60789", "IsPrimary": true, "Status": "failed", "FailureMessage": "Subnet has insufficient free addresses to create this NAT gateway"}]`))
			// The route still reads "active": the NAT gateway's own state must be checked.
		}},
	{name: "blackhole-route", base: natBase,
		edit: func(d *doc) {
			// The route still names the NAT gateway that was replaced last month.
			route := "ec2.routeTables[RouteTableId=" + natPrivateRTB + "].Routes[DestinationCidrBlock=0.0.0.0/0]"
			d.set(route+".NatGatewayId", "nat-0fedcba9876543210")
			d.set(route+".State", "blackhole")
		}},
	{name: "task-sg-no-egress", base: natBase,
		edit: func(d *doc) {
			d.set("ec2.securityGroups[GroupId="+natTaskSG+"].IpPermissionsEgress", obj(`[{
  "FromPort": 5432, "IpProtocol": "tcp", "ToPort": 5432,
  "IpRanges": [{"CidrIp": "10.20.0.0/16", "Description": "shop database"}],
  "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]`))
			// "enabled" does not cover egress changes: the plan is shown, not run.
			d.clusterTag("enabled")
		}},
	{name: "nacl-blocks-ephemeral", base: natBase,
		edit: func(d *doc) {
			def := "ec2.networkAcls[NetworkAclId=acl-0a9b8c7d6e5f40312].Associations"
			d.del(def + "[SubnetId=" + natPrivateA + "]")
			d.del(def + "[SubnetId=" + natPrivateB + "]")
			d.add("ec2.networkAcls", obj(`{
  "Associations": [
    {"NetworkAclAssociationId": "aclassoc-0c1d2e3f4a5b69701", "NetworkAclId": "acl-0c1d2e3f4a5b69708", "SubnetId": "`+natPrivateA+`"},
    {"NetworkAclAssociationId": "aclassoc-0c1d2e3f4a5b69702", "NetworkAclId": "acl-0c1d2e3f4a5b69708", "SubnetId": "`+natPrivateB+`"}
  ],
  "Entries": [
    {"CidrBlock": "0.0.0.0/0", "Egress": true, "Protocol": "6", "PortRange": {"From": 443, "To": 443}, "RuleAction": "allow", "RuleNumber": 100},
    {"CidrBlock": "10.20.0.0/16", "Egress": true, "Protocol": "6", "PortRange": {"From": 5432, "To": 5432}, "RuleAction": "allow", "RuleNumber": 110},
    {"CidrBlock": "0.0.0.0/0", "Egress": true, "Protocol": "-1", "RuleAction": "deny", "RuleNumber": 32767},
    {"CidrBlock": "10.20.0.0/24", "Egress": false, "Protocol": "6", "PortRange": {"From": 8080, "To": 8080}, "RuleAction": "allow", "RuleNumber": 100},
    {"CidrBlock": "0.0.0.0/0", "Egress": false, "Protocol": "-1", "RuleAction": "deny", "RuleNumber": 32767}
  ],
  "IsDefault": false,
  "NetworkAclId": "acl-0c1d2e3f4a5b69708",
  "Tags": [{"Key": "Name", "Value": "shop-private-strict"}],
  "VpcId": "`+natVPC+`",
  "OwnerId": "111122223333"
}`))
		}},

	// --- network, endpoint design ---
	{name: "missing-ecr-dkr-endpoint", base: endpointsBase, reason: ecrTimeout,
		edit: func(d *doc) {
			d.del("ec2.vpcEndpoints[ServiceName=com.amazonaws.eu-west-1.ecr.dkr]")
		}},
	{name: "endpoint-sg-missing-443", base: endpointsBase,
		edit: func(d *doc) {
			// The endpoints were moved from the old VPC; their group still admits only its CIDR.
			d.set("ec2.securityGroups[GroupId="+epEndptSG+"].IpPermissions", obj(`[{
  "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443,
  "IpRanges": [{"CidrIp": "10.41.0.0/16", "Description": "old payments VPC"}],
  "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]`))
			d.clusterTag("dry-run")
		}},
	{name: "s3-endpoint-policy-denies", base: endpointsBase,
		reason: "CannotPullContainerError: error pulling image configuration: download failed after attempts=1: error parsing HTTP 403 response body: invalid character '<' looking for beginning of value: \"<?xml version=\\\"1.0\\\" encoding=\\\"UTF-8\\\"?>\\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>8QK2X0F3J9V7M1ZB</RequestId><HostId>f2Xq1y4b9s7H0vV3mK8pL5nR6tJ2wE1cA4dG7hB0kM9=</HostId></Error>\"",
		edit: func(d *doc) {
			d.set("ec2.vpcEndpoints[VpcEndpointId="+epS3+"].PolicyDocument",
				`{"Version":"2012-10-17","Statement":[{"Sid":"OnlyOurBuckets","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject","s3:ListBucket"],"Resource":["arn:aws:s3:::payments-artifacts-111122223333","arn:aws:s3:::payments-artifacts-111122223333/*"]}]}`)
		}},
	{name: "old-platform-dockerhub-via-endpoints", base: endpointsBase, reason: "Task failed to start",
		edit: func(d *doc) {
			d.standalone("ledger-reconcile", "reconcile")
			d.image("busybox:1.36")
			d.setEvent("detail.platformVersion", "1.3.0")
			d.set("ecs.taskDefinitions[0].runtimePlatform.cpuArchitecture", "X86_64") // Graviton needs 1.4.0
			d.delEvent("detail.connectivity")
			d.delEvent("detail.connectivityAt")
			d.setEvent("detail.containers[0].reason", "CannotPullContainerError: API error (500): Get https://registry-1.docker.io/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)\n")
			d.add("ec2.networkInterfaces", taskENI(epTaskENI, epTaskNet, epVPC, "10.40.1.77", epTaskSG, "payments-ledger-tasks"))
		}},

	{name: "ecr-other-region-via-endpoints", base: endpointsBase,
		reason: "CannotPullContainerError: The task cannot pull 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments/ledger:2026.03.1 from the registry 111122223333.dkr.ecr.us-east-1.amazonaws.com. There is a connection issue between the task and the registry. Check your task network configuration. : failed to copy: httpReadSeeker: failed open: failed to do request: Get \"https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/payments/ledger/manifests/2026.03.1\": dial tcp 3.227.250.12:443: i/o timeout",
		edit: func(d *doc) {
			// The image still names the region it was first pushed to, while
			// the service moved to eu-west-1, whose endpoints serve only eu-west-1.
			// The repository is in us-east-1 too: its ARN says so.
			d.image("111122223333.dkr.ecr.us-east-1.amazonaws.com/payments/ledger:2026.03.1")
			d.set("ecr.repositories[0].repositoryArn", "arn:aws:ecr:us-east-1:111122223333:repository/payments/ledger")
			d.set("ecr.repositories[0].repositoryUri", "111122223333.dkr.ecr.us-east-1.amazonaws.com/payments/ledger")
			d.set("ecr.repositories[0].encryptionConfiguration.kmsKey", "arn:aws:kms:us-east-1:111122223333:key/1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b")
		}},

	// --- dns ---
	{name: "vpc-dns-disabled", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.2: failed to do request: Head \"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/shop/web/manifests/1.4.2\": dial tcp: lookup 111122223333.dkr.ecr.eu-west-1.amazonaws.com on 10.20.0.2:53: no such host",
		edit: func(d *doc) {
			d.set("ec2.vpcAttributes."+natVPC+".EnableDnsSupport", false)
		}},
	{name: "custom-dhcp-resolvers", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.2: failed to do request: Head \"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/shop/web/manifests/1.4.2\": dial tcp: lookup 111122223333.dkr.ecr.eu-west-1.amazonaws.com on 10.20.0.53:53: server misbehaving",
		edit: func(d *doc) {
			d.set("ec2.dhcpOptions[0].DhcpConfigurations", obj(`[
  {"Key": "domain-name", "Values": [{"Value": "corp.example.internal"}]},
  {"Key": "domain-name-servers", "Values": [{"Value": "10.20.0.53"}, {"Value": "10.20.1.53"}]}]`))
		}},
	{name: "dhcp-no-dns-servers", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.2: failed to do request: Head \"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/shop/web/manifests/1.4.2\": dial tcp: lookup 111122223333.dkr.ecr.eu-west-1.amazonaws.com: no such host",
		edit: func(d *doc) {
			// A set made for NTP only: instances get no name server at all.
			d.set("ec2.dhcpOptions[0].DhcpConfigurations", obj(`[
  {"Key": "domain-name", "Values": [{"Value": "eu-west-1.compute.internal"}]},
  {"Key": "ntp-servers", "Values": [{"Value": "169.254.169.123"}]}]`))
		}},

	// --- iam ---
	{name: "no-execution-role", base: natBase,
		reason: "CannotPullContainerError: Error response from daemon: Get https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/shop/web/manifests/1.4.2: no basic auth credentials",
		edit: func(d *doc) {
			d.del("ecs.taskDefinitions[0].executionRoleArn")
			d.del("ecs.taskDefinitions[0].containerDefinitions[0].logConfiguration")
		}},
	{name: "role-missing-ecr-pull", base: natBase,
		reason: "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/ecsTaskExecutionRole/5d2e8f9a0b1c4d3e8f7a6b5c4d3e2f1a is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action status code: 400, request id: 1c6e4a52-8f0b-4d3a-9e71-2b5c8d0f6a13",
		edit: func(d *doc) {
			d.set("iam.RoleDetailList[RoleName="+execRoleNAT+"].AttachedManagedPolicies", obj(`[{"PolicyName": "shop-ecs-logs", "PolicyArn": "arn:aws:iam::111122223333:policy/shop-ecs-logs"}]`))
			d.set("iam.Policies", obj(`[{
  "PolicyName": "shop-ecs-logs", "PolicyId": "ANPAQX2EXAMPLE4LOGS7", "Arn": "arn:aws:iam::111122223333:policy/shop-ecs-logs",
  "Path": "/", "DefaultVersionId": "v2", "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
  "CreateDate": "2025-11-20T08:06:40+00:00", "UpdateDate": "2026-03-02T11:20:13+00:00",
  "PolicyVersionList": [
    {"VersionId": "v2", "IsDefaultVersion": true, "CreateDate": "2026-03-02T11:20:13+00:00",
     "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:eu-west-1:111122223333:log-group:/ecs/shop/*"}]}},
    {"VersionId": "v1", "IsDefaultVersion": false, "CreateDate": "2025-11-20T08:06:40+00:00",
     "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:*", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}}
  ]}]`))
		}},
	{name: "explicit-deny-boundary", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.2: pulling from host 111122223333.dkr.ecr.eu-west-1.amazonaws.com failed with status code [manifests 1.4.2]: 403 Forbidden",
		edit: func(d *doc) {
			d.set("iam.RoleDetailList[RoleName="+execRoleNAT+"].PermissionsBoundary", obj(`{"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/shop-workload-boundary"}`))
			d.add("iam.Policies", obj(`{
  "PolicyName": "shop-workload-boundary", "PolicyId": "ANPAQX2EXAMPLEBNDRY2", "Arn": "arn:aws:iam::111122223333:policy/shop-workload-boundary",
  "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 1, "IsAttachable": true,
  "CreateDate": "2026-03-05T15:02:44+00:00", "UpdateDate": "2026-03-05T15:02:44+00:00",
  "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "CreateDate": "2026-03-05T15:02:44+00:00",
    "Document": {"Version": "2012-10-17", "Statement": [
      {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"},
      {"Sid": "OnlyBaseImages", "Effect": "Deny", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "NotResource": "arn:aws:ecr:eu-west-1:111122223333:repository/shop/base/*"}
    ]}}]}`))
		}},
	{name: "cross-account-no-repo-policy", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 444455556666.dkr.ecr.eu-west-1.amazonaws.com/shared/web:1.4.2: pulling from host 444455556666.dkr.ecr.eu-west-1.amazonaws.com failed with status code [manifests 1.4.2]: 403 Forbidden",
		edit:   crossAccount(false)},
	{name: "healthy-cross-account", base: natBase,
		edit: crossAccount(true)},
	{name: "secret-access-denied", base: natBase,
		reason: "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:eu-west-1:111122223333:secret:shop/web/db-password-Xy12Ab from secrets manager: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/ecsTaskExecutionRole/5d2e8f9a0b1c4d3e8f7a6b5c4d3e2f1a is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:eu-west-1:111122223333:secret:shop/web/db-password-Xy12Ab because no identity-based policy allows the secretsmanager:GetSecretValue action status code: 400, request id: 7d9c1e3a-5b2f-4a68-8e0d-3f6a1b4c9e27",
		edit: func(d *doc) {
			d.set("ecs.taskDefinitions[0].containerDefinitions[0].secrets", obj(`[{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:shop/web/db-password-Xy12Ab"}]`))
			d.set("secrets.secretsManager", obj(`[{
  "ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:shop/web/db-password-Xy12Ab",
  "Name": "shop/web/db-password",
  "LastChangedDate": "2026-03-08T17:12:40.118000+00:00",
  "Tags": [{"Key": "team", "Value": "shop"}],
  "SecretVersionsToStages": {"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d": ["AWSCURRENT"]},
  "CreatedDate": "2025-11-20T08:15:02.007000+00:00"}]`))
		}},

	// --- image ---
	{name: "repo-missing", base: natBase,
		reason: "CannotPullContainerError: Error response from daemon: repository 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web-app not found: name unknown: The repository with name 'shop/web-app' does not exist in the registry with id '111122223333'",
		edit:   func(d *doc) { d.image("111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web-app:1.4.2") }},
	{name: "tag-missing", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.3: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.3: not found",
		edit:   func(d *doc) { d.image(shopWebImage + ":1.4.3") }},
	{name: "wrong-platform", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): image Manifest does not contain descriptor matching platform 'linux/arm64'",
		edit: func(d *doc) {
			d.set("ecs.taskDefinitions[0].runtimePlatform.cpuArchitecture", "ARM64")
		}},
	{name: "dockerhub-rate-limit", base: natBase,
		reason: "CannotPullContainerError: inspect image has been retried 5 time(s): httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:5f44022eab9198d75939d9eaa5341bc077eca16fa51d4ef32d33f1bd4c8cbe7d: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
		edit:   func(d *doc) { d.image("nginx:1.27-alpine") }},
	{name: "private-registry-no-creds", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ghcr.io/acme-shop/web-worker:2.0.1: failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token?scope=repository%3Aacme-shop%2Fweb-worker%3Apull&service=ghcr.io: 401 Unauthorized",
		edit:   func(d *doc) { d.image("ghcr.io/acme-shop/web-worker:2.0.1") }},

	// --- a standalone task ---
	{name: "standalone-task-public-subnet", base: natBase,
		edit: func(d *doc) {
			d.standalone("web-export", "export")
			d.placeTask(natPublicNet, "10.20.0.141")
			d.add("ec2.networkInterfaces", taskENI(natTaskENI, natPublicNet, natVPC, "10.20.0.141", natTaskSG, "shop-web-tasks"))
		}},
	{name: "repo-policy-denies-outside-vpce", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.2: pulling from host 111122223333.dkr.ecr.eu-west-1.amazonaws.com failed with status code [manifests 1.4.2]: 403 Forbidden",
		edit: func(d *doc) {
			// The platform team locked the repository to the ECR endpoint of
			// the new shared VPC; this service still pulls through its NAT
			// gateway, where aws:SourceVpce is absent, so the Deny applies.
			d.set("ecr.repositoryPolicies", obj(`{"shop/web": "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ {\n    \"Sid\" : \"PullFromShop\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::111122223333:root\"\n    },\n    \"Action\" : [ \"ecr:BatchCheckLayerAvailability\", \"ecr:BatchGetImage\", \"ecr:GetDownloadUrlForLayer\" ]\n  }, {\n    \"Sid\" : \"OnlyThroughSharedEndpoint\",\n    \"Effect\" : \"Deny\",\n    \"Principal\" : \"*\",\n    \"Action\" : \"ecr:*\",\n    \"Condition\" : {\n      \"StringNotEquals\" : {\n        \"aws:SourceVpce\" : \"vpce-0f1e2d3c4b5a69788\"\n      }\n    }\n  } ]\n}"}`))
		}},

	// --- pull-through cache and image index (issue 9, items 7 and 9) ---
	{name: "pull-through-cache-first-pull", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.27-alpine: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.27-alpine: not found",
		edit: func(d *doc) {
			// The team moved nginx behind the registry's Docker Hub cache; nothing
			// has pulled it yet, and the execution role may only pull.
			d.image("111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.27-alpine")
			d.set("ecr.pullThroughCacheRules", obj(`[{
  "ecrRepositoryPrefix": "docker-hub", "upstreamRegistryUrl": "registry-1.docker.io", "upstreamRegistry": "docker-hub",
  "registryId": "111122223333", "createdAt": "2026-03-10T14:02:11.512000+00:00", "updatedAt": "2026-03-10T14:02:11.512000+00:00",
  "credentialArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ecr-pullthroughcache/docker-hub-Qw34Er"}]`))
			d.set("secrets.secretsManager", obj(`[{
  "ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ecr-pullthroughcache/docker-hub-Qw34Er",
  "Name": "ecr-pullthroughcache/docker-hub",
  "CreatedDate": "2026-03-10T13:58:40.220000+00:00", "LastChangedDate": "2026-03-10T13:58:40.220000+00:00",
  "SecretVersionsToStages": {"0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f": ["AWSCURRENT"]}}]`))
		}},
	{name: "image-index-missing-arch", base: natBase,
		// The console cuts the stop reason at 255 characters: nothing names the platform.
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.2: pulling from host 111122223333.dkr.ecr.eu-west-1.amazonaws.com failed with status code [manif",
		edit: func(d *doc) {
			// The service moved to Graviton; CI still pushes an amd64-only index.
			d.set("ecs.taskDefinitions[0].runtimePlatform.cpuArchitecture", "ARM64")
			web := "ecr.images.shop/web[imageDigest=sha256:8f2b1c7e4a9d03b6e5f1a2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b]"
			d.set(web+".imageManifestMediaType", "application/vnd.oci.image.index.v1+json")
			d.set(web+".artifactMediaType", "application/vnd.oci.image.index.v1+json")
			d.set("ecr.imageManifests", obj(`{"shop/web": [{
  "registryId": "111122223333", "repositoryName": "shop/web",
  "imageId": {"imageDigest": "sha256:8f2b1c7e4a9d03b6e5f1a2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b", "imageTag": "1.4.2"},
  "imageManifestMediaType": "application/vnd.oci.image.index.v1+json",
  "imageManifest": "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:2d4c6b8a0f1e3d5c7b9a2f4e6d8c0b1a3f5e7d9c2b4a6f8e0d1c3b5a7f9e2d4c\",\"size\":1612,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:9e7c5a3b1d0f2e4c6a8b0d2f4e6c8a0b2d4f6e8c0a2b4d6f8e0c2a4b6d8f0e2c\",\"size\":566,\"annotations\":{\"vnd.docker.reference.digest\":\"sha256:2d4c6b8a0f1e3d5c7b9a2f4e6d8c0b1a3f5e7d9c2b4a6f8e0d1c3b5a7f9e2d4c\",\"vnd.docker.reference.type\":\"attestation-manifest\"},\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}]}"}]}`))
		}},
	// --- likely causes: nothing fails, a warning fits the stop reason ---
	{name: "tgw-default-route-timeout", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.2: failed to do request: Head \"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/shop/web/manifests/1.4.2\": dial tcp 52.95.150.10:443: i/o timeout",
		edit: func(d *doc) {
			// The network team moved egress to a central inspection VPC.
			route := "ec2.routeTables[RouteTableId=" + natPrivateRTB + "].Routes[DestinationCidrBlock=0.0.0.0/0]"
			d.del(route + ".NatGatewayId")
			d.set(route+".TransitGatewayId", "tgw-0a1b2c3d4e5f67890")
		}},
	{name: "healthy-transient-registry-error", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.2: unexpected status code https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/shop/web/manifests/1.4.2: 503 Service Unavailable",
		edit:   func(*doc) {}},

	// --- digests and registry near misses (issue 9, items 5 and 10) ---
	{name: "pinned-digest-expired", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref " + shopWebImage + ":stable@" + expiredDigest + ": " + shopWebImage + ":stable@" + expiredDigest + ": not found",
		edit: func(d *doc) {
			// The service deployed "stable" when it was last week's build, and
			// ECS pinned that digest. CI has since moved "stable" to 1.4.2, and
			// the lifecycle rule that expires untagged images deleted the old
			// build; a scale-out still pulls the pinned digest.
			d.image(shopWebImage + ":stable")
			d.setEvent("detail.containers[0].imageDigest", expiredDigest)
			d.set("ecr.repositories[0].imageTagMutability", "MUTABLE")
			d.set("ecr.images.shop/web[imageDigest=sha256:8f2b1c7e4a9d03b6e5f1a2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b].imageTags", obj(`["1.4.2", "stable"]`))
		}},
	{name: "registry-host-typo", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.con/shop/web:1.4.2: failed to do request: Head \"https://111122223333.dkr.ecr.eu-west-1.amazonaws.con/v2/shop/web/manifests/1.4.2\": dial tcp: lookup 111122223333.dkr.ecr.eu-west-1.amazonaws.con on 10.20.0.2:53: no such host",
		edit: func(d *doc) {
			// A hand-edited task definition: ".con" for ".com".
			d.image("111122223333.dkr.ecr.eu-west-1.amazonaws.con/shop/web:1.4.2")
		}},
	{name: "image-missing-registry-prefix", base: natBase,
		reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/shop/web:1.4.2: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
		edit: func(d *doc) {
			// A template variable for the registry came out empty: the bare
			// name goes to Docker Hub, while shop/web is this account's ECR repository.
			d.image("shop/web:1.4.2")
		}},
	// --- the EC2 launch type (issue 10): the agent pulls over the instance's network ---
	{name: "ec2-bridge-host-sg-no-egress", base: natBase, reason: "Task failed to start",
		edit: func(d *doc) {
			onEC2(d, "bridge", natPrivateA)
			d.setEvent("detail.containers[0].reason", "CannotPullContainerError: Error response from daemon: Get \"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/\": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)")
			// The hosts' group was tightened to the database only; the task's own group is irrelevant in bridge mode.
			d.set("ec2.securityGroups[GroupId="+ec2HostSG+"].IpPermissionsEgress", obj(`[{
  "FromPort": 5432, "IpProtocol": "tcp", "ToPort": 5432,
  "IpRanges": [{"CidrIp": "10.20.0.0/16", "Description": "shop database"}],
  "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]`))
			d.clusterTag("enabled")
		}},
	{name: "ec2-awsvpc-public-subnet-no-public-ip", base: natBase,
		edit: func(d *doc) {
			// The capacity provider's Auto Scaling group launches into the public
			// subnet with auto-assign public IP off. The awsvpc task's ENI is in a
			// private subnet behind NAT, and it is not what pulls.
			onEC2(d, "awsvpc", natPublicNet)
			d.clusterTag("enabled")
		}},
	{name: "ec2-instance-role-no-ecr", base: natBase,
		reason: "CannotPullECRContainerError: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/shop-ecs-instance/i-0a1b2c3d4e5f67890 is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action status code: 400, request id: 0f6a2d3c-1b4e-4c5d-9e8f-7a6b5c4d3e2f",
		edit: func(d *doc) {
			onEC2(d, "bridge", natPrivateA)
			// The task definition never had an execution role (EC2 does not need
			// one); the hardened instance role kept only what the agent itself needs.
			d.del("ecs.taskDefinitions[0].executionRoleArn")
			d.del("ecs.taskDefinitions[0].containerDefinitions[0].logConfiguration")
			d.set("iam.RoleDetailList[RoleName="+ec2Role+"].AttachedManagedPolicies", obj(`[]`))
			d.set("iam.RoleDetailList[RoleName="+ec2Role+"].RolePolicyList", obj(`[{"PolicyName": "ecs-agent-only", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["ecs:DiscoverPollEndpoint", "ecs:Poll", "ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance", "ecs:StartTelemetrySession", "ecs:Submit*", "ecs:UpdateContainerInstancesState"], "Resource": "*"}]}}]`))
		}},
	{name: "ec2-private-subnet-no-nat", base: natBase, reason: "Task failed to start",
		edit: func(d *doc) {
			onEC2(d, "bridge", natPrivateA)
			d.setEvent("detail.containers[0].reason", "CannotPullContainerError: Error response from daemon: Get \"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/\": dial tcp 52.95.150.10:443: i/o timeout")
			d.del("ec2.routeTables[RouteTableId=" + natPrivateRTB + "].Routes[DestinationCidrBlock=0.0.0.0/0]")
		}},
	{name: "ec2-agent-disconnected", base: natBase, reason: "Task failed to start",
		edit: func(d *doc) {
			onEC2(d, "bridge", natPrivateA)
			d.setEvent("detail.containers[0].reason", "CannotPullContainerError: context canceled")
			d.set("ecs.containerInstances[0].agentConnected", false)
		}},
	{name: "ec2-disk-full", base: natBase, reason: "Task failed to start",
		edit: func(d *doc) {
			onEC2(d, "bridge", natPrivateA)
			d.setEvent("detail.containers[0].reason", "CannotPullContainerError: failed to register layer: Error processing tar file(exit status 1): write /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1: no space left on device")
		}},
	{name: "fargate-ephemeral-storage-full", base: natBase,
		reason: "CannotPullContainerError: failed to extract layer sha256:4c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1: write /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/41/fs/opt/models/weights.bin: no space left on device",
		edit: func(d *doc) {
			// The web image now bundles the recommendation model: 23 GiB compressed.
			d.set("ecr.images.shop/web[imageDigest=sha256:8f2b1c7e4a9d03b6e5f1a2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b].imageSizeInBytes", 24696061952)
		}},
	{name: "ec2-windows-build-mismatch", base: natBase, reason: "Task failed to start",
		edit: func(d *doc) {
			// The Auto Scaling group moved to Windows Server 2022 AMIs; CI still
			// builds on the ltsc2019 base.
			onEC2(d, "bridge", natPrivateA)
			d.setEvent("detail.containers[0].reason", "CannotPullContainerError: image operating system \"windows\" cannot be used on this platform: no matching manifest for windows/amd64 10.0.20348 in the manifest list entries")
			d.set("ecs.taskDefinitions[0].runtimePlatform", obj(`{"cpuArchitecture": "X86_64", "operatingSystemFamily": "WINDOWS_SERVER_2019_FULL"}`))
			d.del("ecs.taskDefinitions[0].containerDefinitions[0].logConfiguration")
			d.set("ecs.containerInstances[0].attributes[name=ecs.os-type].value", "windows")
			d.set("ecs.containerInstances[0].attributes[name=ecs.os-family].value", "WINDOWS_SERVER_2022_FULL")
			d.set("ec2.instances[0].PlatformDetails", "Windows")
			d.set("ec2.instances[0].Platform", "windows")
			web := "ecr.images.shop/web[imageDigest=sha256:8f2b1c7e4a9d03b6e5f1a2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b]"
			d.set(web+".imageManifestMediaType", "application/vnd.docker.distribution.manifest.list.v2+json")
			d.set("ecr.imageManifests", obj(`{"shop/web": [{
  "registryId": "111122223333", "repositoryName": "shop/web",
  "imageId": {"imageDigest": "sha256:8f2b1c7e4a9d03b6e5f1a2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b", "imageTag": "1.4.2"},
  "imageManifestMediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "imageManifest": "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":[{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"sha256:6b1d3f5a7c9e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d\",\"size\":2193,\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.version\":\"10.0.17763.6893\"}}]}"}]}`))
		}},
	{name: "ec2-agent-too-old", base: natBase, reason: "Task failed to start",
		edit: func(d *doc) {
			// An instance from a years-old custom AMI joined the cluster: its
			// agent predates execution roles, so it asks ECR with the instance's
			// credentials, which the hardened role no longer has.
			onEC2(d, "bridge", natPrivateA)
			d.setEvent("detail.containers[0].reason", "CannotPullContainerError: Error response from daemon: Get https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/shop/web/manifests/1.4.2: no basic auth credentials")
			d.set("ecs.containerInstances[0].versionInfo.agentVersion", "1.14.5")
			d.set("ecs.containerInstances[0].versionInfo.dockerVersion", "DockerVersion: 17.03.2-ce")
		}},
}

// expiredDigest is the build a lifecycle rule deleted while a service still ran it.
const expiredDigest = "sha256:5e7a9c1b3d5f7092a4c6e8f0b2d4f6a8c0e2a4b6d8f0a2c4e6b8d0f2a4c6e8b0"

// crossAccount pulls the image from the central build account 444455556666.
// With grant, its repository policy lets this account's execution role pull.
func crossAccount(grant bool) func(d *doc) {
	return func(d *doc) {
		d.image("444455556666.dkr.ecr.eu-west-1.amazonaws.com/shared/web:1.4.2")
		d.add("ecr.repositories", obj(`{
  "repositoryArn": "arn:aws:ecr:eu-west-1:444455556666:repository/shared/web",
  "registryId": "444455556666",
  "repositoryName": "shared/web",
  "repositoryUri": "444455556666.dkr.ecr.eu-west-1.amazonaws.com/shared/web",
  "createdAt": "2025-09-01T12:00:00+00:00",
  "imageTagMutability": "IMMUTABLE",
  "imageScanningConfiguration": {"scanOnPush": true},
  "encryptionConfiguration": {"encryptionType": "AES256"}}`))
		d.set("ecr.images.shared/web", obj(`[{
  "registryId": "444455556666", "repositoryName": "shared/web",
  "imageDigest": "sha256:0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c",
  "imageTags": ["1.4.2"], "imageSizeInBytes": 48213321,
  "imagePushedAt": "2026-03-09T09:55:02.771000+00:00",
  "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "artifactMediaType": "application/vnd.docker.container.image.v1+json"}]`))
		if grant {
			d.set("ecr.repositoryPolicies", obj(`{"shared/web": "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ {\n    \"Sid\" : \"PullFromShop\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::111122223333:role/ecsTaskExecutionRole\"\n    },\n    \"Action\" : [ \"ecr:BatchCheckLayerAvailability\", \"ecr:BatchGetImage\", \"ecr:GetDownloadUrlForLayer\" ]\n  } ]\n}"}`))
		}
	}
}
