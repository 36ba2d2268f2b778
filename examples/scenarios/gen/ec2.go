package main

import "strings"

// The EC2 launch type (issue 10): the healthy-nat service moved onto a
// cluster of EC2 container instances. The agent pulls over the instance's
// own network, so the instance, its subnet and its security group are what
// the scenarios change.
const (
	ec2HostARN  = "arn:aws:ecs:eu-west-1:111122223333:container-instance/shop/7c1d2e3f4a5b46c7a8b9c0d1e2f3a4b5"
	ec2Instance = "i-0a1b2c3d4e5f67890"
	ec2HostSG   = "sg-0aa11bb22cc33dd44"
	ec2HostIP   = "10.20.10.145"
	ec2Profile  = "arn:aws:iam::111122223333:instance-profile/shop-ecs-instance"
	ec2Role     = "shop-ecs-instance"
)

// onEC2 moves the task onto container instance ec2HostARN in subnet, in
// network mode "bridge" or "awsvpc" (the task ENI then stays where the
// base put it, which is not where the pull goes).
func onEC2(d *doc, mode, subnet string) {
	d.setEvent("detail.launchType", "EC2")
	d.delEvent("detail.platformVersion")
	d.setEvent("detail.containerInstanceArn", ec2HostARN)
	d.set("ecs.services[0].launchType", "EC2")
	d.set("ecs.services[0].deployments[0].launchType", "EC2")
	d.del("ecs.services[0].platformVersion")
	d.del("ecs.services[0].deployments[0].platformVersion")
	d.set("ecs.taskDefinitions[0].requiresCompatibilities", obj(`["EC2"]`))
	d.set("ecs.taskDefinitions[0].networkMode", mode)
	if mode == "bridge" {
		d.delEvent("detail.attachments")
		d.delEvent("detail.containers[0].networkInterfaces")
		d.setEvent("detail.containers[0].networkBindings", obj(`[{"bindIP": "0.0.0.0", "containerPort": 8080, "hostPort": 32768, "protocol": "tcp"}]`))
		d.del("ecs.services[0].networkConfiguration")
		d.del("ecs.services[0].deployments[0].networkConfiguration")
		d.set("ecs.taskDefinitions[0].containerDefinitions[0].portMappings", obj(`[{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]`))
	}
	d.set("ecs.containerInstances", obj(`[{
  "containerInstanceArn": "`+ec2HostARN+`",
  "ec2InstanceId": "`+ec2Instance+`",
  "capacityProviderName": "shop-asg",
  "version": 41,
  "versionInfo": {"agentVersion": "1.87.0", "agentHash": "5a7e5a9e", "dockerVersion": "DockerVersion: 25.0.8"},
  "remainingResources": [{"name": "CPU", "type": "INTEGER", "integerValue": 1536}, {"name": "MEMORY", "type": "INTEGER", "integerValue": 6920}],
  "registeredResources": [{"name": "CPU", "type": "INTEGER", "integerValue": 2048}, {"name": "MEMORY", "type": "INTEGER", "integerValue": 7944}],
  "status": "ACTIVE",
  "agentConnected": true,
  "runningTasksCount": 1,
  "pendingTasksCount": 0,
  "attributes": [
    {"name": "ecs.os-type", "value": "linux"},
    {"name": "ecs.os-family", "value": "LINUX"},
    {"name": "ecs.cpu-architecture", "value": "x86_64"},
    {"name": "ecs.instance-type", "value": "m6i.large"},
    {"name": "ecs.ami-id", "value": "ami-0c1d2e3f4a5b6c7d8"},
    {"name": "ecs.availability-zone", "value": "eu-west-1a"},
    {"name": "ecs.subnet-id", "value": "`+subnet+`"},
    {"name": "ecs.vpc-id", "value": "`+natVPC+`"},
    {"name": "ecs.capability.execution-role-ecr-pull"},
    {"name": "com.amazonaws.ecs.capability.ecr-auth"}
  ],
  "registeredAt": "2026-03-01T07:12:40.118000+00:00"
}]`))
	d.set("ec2.instances", obj(`[{
  "InstanceId": "`+ec2Instance+`",
  "ImageId": "ami-0c1d2e3f4a5b6c7d8",
  "InstanceType": "m6i.large",
  "LaunchTime": "2026-03-01T07:10:02+00:00",
  "Placement": {"AvailabilityZone": "eu-west-1a", "Tenancy": "default"},
  "PlatformDetails": "Linux/UNIX",
  "PrivateIpAddress": "`+ec2HostIP+`",
  "PrivateDnsName": "ip-`+strings.ReplaceAll(ec2HostIP, ".", "-")+`.eu-west-1.compute.internal",
  "State": {"Code": 16, "Name": "running"},
  "SubnetId": "`+subnet+`",
  "VpcId": "`+natVPC+`",
  "IamInstanceProfile": {"Arn": "`+ec2Profile+`", "Id": "AIPAQX2EXAMPLEHOST01"},
  "SecurityGroups": [{"GroupId": "`+ec2HostSG+`", "GroupName": "shop-ecs-hosts"}],
  "NetworkInterfaces": [{
    "NetworkInterfaceId": "eni-0c9d8e7f6a5b4c3d2", "SubnetId": "`+subnet+`", "VpcId": "`+natVPC+`",
    "PrivateIpAddress": "`+ec2HostIP+`", "Status": "in-use",
    "Attachment": {"AttachmentId": "eni-attach-0d1e2f3a4b5c6d7e8", "DeviceIndex": 0, "Status": "attached", "DeleteOnTermination": true},
    "Groups": [{"GroupId": "`+ec2HostSG+`", "GroupName": "shop-ecs-hosts"}]
  }],
  "Tags": [{"Key": "aws:autoscaling:groupName", "Value": "shop-ecs"}, {"Key": "AmazonECSManaged", "Value": ""}]
}]`))
	d.add("ec2.securityGroups", obj(`{
  "Description": "shop ECS container instances",
  "GroupId": "`+ec2HostSG+`",
  "GroupName": "shop-ecs-hosts",
  "IpPermissions": [{"FromPort": 32768, "IpProtocol": "tcp", "ToPort": 65535, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
    "UserIdGroupPairs": [{"Description": "dynamic ports from the load balancer", "GroupId": "sg-0fedcba9876543210", "UserId": "111122223333"}]}],
  "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}],
  "OwnerId": "111122223333",
  "VpcId": "`+natVPC+`"
}`))
	// The instance role: the ECS managed policy for container instances.
	d.add("iam.RoleDetailList", obj(`{
  "Arn": "arn:aws:iam::111122223333:role/`+ec2Role+`",
  "RoleName": "`+ec2Role+`",
  "RoleId": "AROAQX2EXAMPLEHOST02",
  "Path": "/",
  "CreateDate": "2025-11-20T08:02:10+00:00",
  "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
  "InstanceProfileList": [{"Arn": "`+ec2Profile+`", "InstanceProfileName": "`+ec2Role+`", "InstanceProfileId": "AIPAQX2EXAMPLEHOST01", "Path": "/"}],
  "AttachedManagedPolicies": [{"PolicyName": "AmazonEC2ContainerServiceforEC2Role", "PolicyArn": "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"}],
  "RolePolicyList": []
}`))
	d.add("iam.Policies", obj(`{
  "PolicyName": "AmazonEC2ContainerServiceforEC2Role", "PolicyId": "ANPAJLYJCVHC7TQHCSQDS",
  "Arn": "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
  "Path": "/service-role/", "DefaultVersionId": "v8", "AttachmentCount": 1, "IsAttachable": true,
  "PolicyVersionList": [{"VersionId": "v8", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ec2:DescribeTags", "ecs:CreateCluster", "ecs:DeregisterContainerInstance", "ecs:DiscoverPollEndpoint", "ecs:Poll",
      "ecs:RegisterContainerInstance", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState", "ecs:Submit*",
      "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
      "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
    {"Effect": "Allow", "Action": "ecs:TagResource", "Resource": "*", "Condition": {"StringEquals": {"ecs:CreateAction": ["CreateCluster", "RegisterContainerInstance"]}}}]}}]
}`))
}
