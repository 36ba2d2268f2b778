package account

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Repositories of the tests below: one name, "web", in the snapshot's own
// registry, in another account and in another region.
var (
	ownWeb    = RepoKey{Account: "111122223333", Region: "eu-west-1", Name: "web"}
	otherWeb  = RepoKey{Account: "444455556666", Region: "eu-west-1", Name: "web"}
	usEastWeb = RepoKey{Account: "111122223333", Region: "us-east-1", Name: "web"}
)

// cliDoc is a snapshot of account 111122223333 in eu-west-1 with body.
func cliDoc(body string) []byte {
	return doc(`"account":"111122223333","region":"eu-west-1",` + body)
}

const (
	grantPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:BatchGetImage"}]}`
	// policyText as get-repository-policy prints it: the document as a JSON string.
	printedPolicy = `"{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ ]\n}"`
	bothWebs      = `"repositories":[{"repositoryArn":"arn:aws:ecr:eu-west-1:111122223333:repository/web","repositoryName":"web"},` +
		`{"repositoryArn":"arn:aws:ecr:eu-west-1:444455556666:repository/web","registryId":"444455556666","repositoryName":"web"}]`
)

// TestLoadCLIShapes: what the AWS CLI (v1 and v2) prints, pasted as printed,
// loads into the facts the rules read.
func TestLoadCLIShapes(t *testing.T) {
	tags := func(s *Snapshot, k RepoKey) any {
		var out []string
		for _, d := range s.Images(k) {
			out = append(out, d.ImageTags...)
		}
		return out
	}
	dns := func(s *Snapshot) any {
		f := Facts{Snapshot: *s}
		return [2]bool{f.DNSSupport("vpc-1"), f.DNSHostnames("vpc-1")}
	}
	td := func(s *Snapshot) any {
		if len(s.ECS.TaskDefinitions) != 1 {
			return len(s.ECS.TaskDefinitions)
		}
		return aws.ToString(s.ECS.TaskDefinitions[0].ExecutionRoleArn) + " " + s.ECS.TaskDefinitions[0].RegisteredAt.UTC().String()
	}
	const tdBody = `{"taskDefinitionArn":"arn:aws:ecs:eu-west-1:111122223333:task-definition/web:3","executionRoleArn":"arn:aws:iam::111122223333:role/exec","registeredAt":%s}`
	tests := []struct {
		name string
		body string
		get  func(*Snapshot) any
		want any
	}{
		// describe-vpc-attribute answers one attribute per call.
		{"vpc attribute output per VPC", `"ec2":{"vpcAttributes":{"vpc-1":{"VpcId":"vpc-1","EnableDnsSupport":{"Value":false}}}}`, dns, [2]bool{false, false}},
		{"vpc attribute outputs merged", `"ec2":{"vpcAttributes":{"vpc-1":{"VpcId":"vpc-1","EnableDnsSupport":{"Value":true},"EnableDnsHostnames":{"Value":true}}}}`, dns, [2]bool{true, true}},
		{"vpc attribute outputs as a list per VPC", `"ec2":{"vpcAttributes":{"vpc-1":[{"VpcId":"vpc-1","EnableDnsSupport":{"Value":false}},{"VpcId":"vpc-1","EnableDnsHostnames":{"Value":true}}]}}`,
			dns, [2]bool{false, true}},
		{"vpc attribute outputs as the section", `"ec2":{"vpcAttributes":[{"VpcId":"vpc-1","EnableDnsHostnames":{"Value":true}},{"EnableDnsSupport":{"Value":false},"VpcId":"vpc-1"}]}`,
			dns, [2]bool{false, true}},
		{"vpc attributes as booleans, as before", `"ec2":{"vpcAttributes":{"vpc-1":{"EnableDnsHostnames":true}}}`, dns, [2]bool{true, true}},
		// describe-task-definition prints {taskDefinition, tags}; CLI v1 prints ECS times as epoch seconds, v2 as ISO-8601.
		{"whole describe-task-definition in the list (v1)", `"ecs":{"taskDefinitions":[{"taskDefinition":` + fmt.Sprintf(tdBody, `1700000000.5`) + `,"tags":[{"key":"team","value":"web"}]}]}`,
			td, "arn:aws:iam::111122223333:role/exec 2023-11-14 22:13:20.5 +0000 UTC"},
		{"whole describe-task-definition as the section (v2)", `"ecs":{"taskDefinitions":{"taskDefinition":` + fmt.Sprintf(tdBody, `"2023-11-14T22:13:20.500000+00:00"`) + `,"tags":[]}}`,
			td, "arn:aws:iam::111122223333:role/exec 2023-11-14 22:13:20.5 +0000 UTC"},
		{"whole describe-subnets as the section", `"ec2":{"subnets":{"Subnets":[{"SubnetId":"subnet-1"},{"SubnetId":"subnet-2"}]}}`,
			func(s *Snapshot) any { return len(s.EC2.Subnets) }, 2},
		{"several describe outputs in a row", `"ec2":{"routeTables":[{"RouteTables":[{"RouteTableId":"rtb-1"}]},{"RouteTables":[{"RouteTableId":"rtb-2"}]}]}`,
			func(s *Snapshot) any { return aws.ToString(s.EC2.RouteTables[1].RouteTableId) }, "rtb-2"},
		{"describe-clusters with its failures", `"ecs":{"clusters":{"clusters":[{"clusterName":"c"}],"failures":[{"arn":"x","reason":"MISSING"}]}}`,
			func(s *Snapshot) any { return aws.ToString(s.ECS.Clusters[0].ClusterName) }, "c"},
		{"describe-parameters", `"secrets":{"ssmParameters":{"Parameters":[{"Name":"/app/token"}]}}`,
			func(s *Snapshot) any { return aws.ToString(s.Secrets.SSMParameters[0].Name) }, "/app/token"},
		{"describe-images output as the images", `"ecr":{"images":{"web":{"imageDetails":[{"imageTags":["1.0"],"registryId":"111122223333","repositoryName":"web"}]}}}`,
			func(s *Snapshot) any { return tags(s, ownWeb) }, []string{"1.0"}},
		{"batch-get-image output as the manifests", `"ecr":{"imageManifests":{"web":{"images":[{"imageId":{"imageTag":"1.0"},"imageManifest":"{}"}],"failures":[]}}}`,
			func(s *Snapshot) any { return aws.ToString(s.ImageManifests(ownWeb)[0].ImageManifest) }, "{}"},
		// get-repository-policy prints {registryId, repositoryName, policyText}.
		{"whole get-repository-policy output", `"ecr":{"repositoryPolicies":{"web":{"registryId":"111122223333","repositoryName":"web","policyText":` + printedPolicy + `}}}`,
			func(s *Snapshot) any { return s.RepositoryPolicy(ownWeb) }, "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ ]\n}"},
		{"get-repository-policy output with the document as an object", `"ecr":{"repositoryPolicies":{"web":{"policyText":` + grantPolicy + `}}}`,
			func(s *Snapshot) any { return s.RepositoryPolicy(ownWeb) }, `{"Statement":[{"Action":"ecr:BatchGetImage","Effect":"Allow","Principal":{"AWS":"111122223333"}}],"Version":"2012-10-17"}`},
		{"policy text alone, as before", `"ecr":{"repositoryPolicies":{"web":` + printedPolicy + `}}`,
			func(s *Snapshot) any { return s.RepositoryPolicy(ownWeb) != "" }, true},
		// Keys: name, ARN, URI, ACCOUNT/REGION/name.
		{"key by ARN", `"ecr":{"repositoryPolicies":{"arn:aws:ecr:eu-west-1:444455556666:repository/web":` + grantPolicy + `}}`,
			func(s *Snapshot) any {
				return [2]bool{s.RepositoryPolicy(otherWeb) != "", s.RepositoryPolicy(ownWeb) != ""}
			}, [2]bool{true, false}},
		{"key by URI", `"ecr":{"images":{"444455556666.dkr.ecr.eu-west-1.amazonaws.com/web":[{"imageTags":["2.0"]}]}}`,
			func(s *Snapshot) any { return [2]any{tags(s, otherWeb), tags(s, ownWeb)} }, [2]any{[]string{"2.0"}, []string(nil)}},
		{"key ACCOUNT/REGION/name", `"ecr":{"images":{"111122223333/us-east-1/web":[{"imageTags":["3.0"]}]}}`,
			func(s *Snapshot) any { return [2]any{tags(s, usEastWeb), tags(s, ownWeb)} }, [2]any{[]string{"3.0"}, []string(nil)}},
		{"one name in two accounts and two regions", `"ecr":{` + bothWebs + `,"images":{"web":[{"imageTags":["own"]}],` +
			`"444455556666.dkr.ecr.eu-west-1.amazonaws.com/web":[{"imageTags":["other"]}],"arn:aws:ecr:us-east-1:111122223333:repository/web":[{"imageTags":["east"]}]}}`,
			func(s *Snapshot) any {
				return [4]any{tags(s, ownWeb), tags(s, otherWeb), tags(s, usEastWeb), s.Repository(usEastWeb) == nil}
			}, [4]any{[]string{"own"}, []string{"other"}, []string{"east"}, true}},
		{"bare name of the one registry that lists it", `"ecr":{"repositories":[{"repositoryArn":"arn:aws:ecr:eu-west-1:444455556666:repository/web","repositoryName":"web"}],"images":{"web":[{"imageTags":["x"]}]}}`,
			func(s *Snapshot) any { return [2]any{tags(s, otherWeb), tags(s, ownWeb)} }, [2]any{[]string{"x"}, []string(nil)}},
		{"keys are written ACCOUNT/REGION/name", `"ecr":{"images":{"web":[],"arn:aws:ecr:us-east-1:111122223333:repository/web":[]},"repositoryPolicies":{"444455556666.dkr.ecr.eu-west-1.amazonaws.com/web":` + grantPolicy + `}}`,
			func(s *Snapshot) any {
				return [2][]string{slices.Sorted(maps.Keys(s.ECR.Images)), slices.Sorted(maps.Keys(s.ECR.RepositoryPolicies))}
			},
			[2][]string{{"111122223333/eu-west-1/web", "111122223333/us-east-1/web"}, {"444455556666/eu-west-1/web"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadSnapshot("snap.json", cliDoc(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(s); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestLoadBareNameWithoutAccount: a snapshot that names no account cannot
// place a bare name, which then stands for that name in any registry.
func TestLoadBareNameWithoutAccount(t *testing.T) {
	s, err := LoadSnapshot("snap.json", doc(`"ecr":{"images":{"web":[{"imageTags":["1"]}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Collect(maps.Keys(s.ECR.Images)); !slices.Equal(got, []string{"web"}) {
		t.Errorf("keys = %v, want the bare name", got)
	}
	if len(s.Images(otherWeb)) != 1 || len(s.Images(ownWeb)) != 1 {
		t.Errorf("images of %s: %v, of %s: %v", otherWeb, s.Images(otherWeb), ownWeb, s.Images(ownWeb))
	}
}

// TestLoadCLIShapeErrors: a value of the wrong shape fails with its JSON path
// and the shape expected, never loading as "none exist".
func TestLoadCLIShapeErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"vpc attribute value not a boolean", `"ec2":{"vpcAttributes":{"vpc-1":{"EnableDnsSupport":{"Value":"yes"}}}}`,
			"snap.json: ec2.vpcAttributes.vpc-1.EnableDnsSupport: expected boolean or {\"Value\": boolean} (as `aws ec2 describe-vpc-attribute` prints it), got object"},
		{"vpc attribute output of another VPC", `"ec2":{"vpcAttributes":{"vpc-1":{"VpcId":"vpc-2","EnableDnsSupport":{"Value":true}}}}`,
			`snap.json: ec2.vpcAttributes.vpc-1.VpcId: "vpc-2" is not the VPC of its key "vpc-1"`},
		{"vpc attribute list entry without VPC", `"ec2":{"vpcAttributes":[{"EnableDnsSupport":{"Value":true}}]}`,
			"snap.json: ec2.vpcAttributes[0]: no VpcId: each entry of an array must be a `aws ec2 describe-vpc-attribute` output, which names its VPC"},
		{"vpc attribute given twice", `"ec2":{"vpcAttributes":[{"VpcId":"vpc-1","EnableDnsSupport":{"Value":true}},{"VpcId":"vpc-1","EnableDnsSupport":{"Value":false}}]}`,
			`snap.json: ec2.vpcAttributes[1].EnableDnsSupport: EnableDnsSupport of vpc-1 is given twice, as true and as false`},
		{"vpc attributes neither object nor array", `"ec2":{"vpcAttributes":true}`,
			"snap.json: ec2.vpcAttributes: expected object (VPC ID to attributes) or an array of `aws ec2 describe-vpc-attribute` outputs, got boolean true"},
		{"task definition tags without the definition", `"ecs":{"taskDefinitions":[{"tags":[{"key":"a","value":"b"}]}]}`,
			`snap.json: ecs.taskDefinitions[0]: expected TaskDefinition object, got an object with none of its keys (tags)`},
		{"describe-task-definition holding a list", `"ecs":{"taskDefinitions":{"taskDefinition":[]}}`,
			"snap.json: ecs.taskDefinitions.taskDefinition: expected object (the \"taskDefinition\" of `aws ecs describe-task-definition`), got array"},
		{"describe-subnets holding an object", `"ec2":{"subnets":{"Subnets":{"SubnetId":"subnet-1"}}}`,
			"snap.json: ec2.subnets.Subnets: expected array (the \"Subnets\" list of `aws ec2 describe-subnets`), got object"},
		{"subnet pasted a level too deep", `"ec2":{"subnets":[{"Subnet":{"SubnetId":"subnet-1"}}]}`,
			`snap.json: ec2.subnets[0]: expected Subnet object, got an object with none of its keys (Subnet)`},
		{"policy output without policyText", `"ecr":{"repositoryPolicies":{"web":{"registryId":"111122223333","repositoryName":"web"}}}`,
			"snap.json: ecr.repositoryPolicies.web: expected " + repositoryPolicyShapes + ", got an object with keys registryId, repositoryName"},
		{"policy output of another repository", `"ecr":{"repositoryPolicies":{"web":{"repositoryName":"api","policyText":"{}"}}}`,
			`snap.json: ecr.repositoryPolicies.web.repositoryName: "api" is not its key's repository "web"`},
		{"policy output of another account", `"ecr":{"repositoryPolicies":{"web":{"registryId":"444455556666","repositoryName":"web","policyText":` + printedPolicy + `}}}`,
			`snap.json: ecr.repositoryPolicies.web.registryId: "444455556666" is not the account of its key's repository 111122223333/eu-west-1/web: key it 444455556666/REGION/web`},
		{"policy that is not JSON", `"ecr":{"repositoryPolicies":{"web":"allow all"}}`,
			"snap.json: ecr.repositoryPolicies.web: expected " + repositoryPolicyShapes + `, got text that is not JSON: string "allow all"`},
		{"policy that is a number", `"ecr":{"repositoryPolicies":{"web":5}}`,
			"snap.json: ecr.repositoryPolicies.web: expected " + repositoryPolicyShapes + ", got number 5"},
		{"images of another account", `"ecr":{"images":{"web":[{"imageTags":["1"]},{"registryId":"444455556666"}]}}`,
			`snap.json: ecr.images.web[1].registryId: "444455556666" is not the account of its key's repository 111122223333/eu-west-1/web: key it 444455556666/REGION/web`},
		{"manifests of another repository", `"ecr":{"imageManifests":{"web":[{"repositoryName":"api"}]}}`,
			`snap.json: ecr.imageManifests.web[0].repositoryName: "api" is not its key's repository "web"`},
		{"key ACCOUNT/name", `"ecr":{"images":{"444455556666/web":[]}}`,
			`snap.json: ecr.images["444455556666/web"]: bad key: "444455556666/web" starts with an account but is not ACCOUNT/REGION/name`},
		{"key ARN of something else", `"ecr":{"images":{"arn:aws:s3:::web":[]}}`,
			`snap.json: ecr.images["arn:aws:s3:::web"]: bad key: "arn:aws:s3:::web" is not an ECR repository ARN (arn:aws:ecr:REGION:ACCOUNT:repository/name)`},
		{"key URI with a tag", `"ecr":{"images":{"111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1.0":[]}}`,
			`snap.json: ecr.images["111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1.0"]: bad key: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1.0" is not an ECR repository URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/name, without tag or digest)`},
		{"key of another registry host", `"ecr":{"images":{"ghcr.io/web":[]}}`,
			`snap.json: ecr.images["ghcr.io/web"]: bad key: "ghcr.io/web" is not an ECR repository URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/name, without tag or digest)`},
		{"one repository under two keys", `"ecr":{"images":{"web":[],"arn:aws:ecr:eu-west-1:111122223333:repository/web":[]}}`,
			`snap.json: ecr.images.web: names repository 111122223333/eu-west-1/web, as key "arn:aws:ecr:eu-west-1:111122223333:repository/web" does: give each repository once`},
		{"bare name listed in two other registries", `"ecr":{"repositories":[{"repositoryArn":"arn:aws:ecr:eu-west-1:444455556666:repository/web","repositoryName":"web"},` +
			`{"repositoryArn":"arn:aws:ecr:us-east-1:555566667777:repository/web","repositoryName":"web"}],"repositoryPolicies":{"web":` + grantPolicy + `}}`,
			`snap.json: ecr.repositoryPolicies.web: repositories lists "web" in several registries (444455556666/eu-west-1/web, 555566667777/us-east-1/web): write the key as ACCOUNT/REGION/name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadSnapshot("snap.json", cliDoc(tc.body))
			assertSnapshotError(t, err, tc.want)
			if s != nil {
				t.Error("got a snapshot with the error")
			}
		})
	}
}

// TestParseRepoKey: every spelling of one repository gives one key.
func TestParseRepoKey(t *testing.T) {
	want := RepoKey{Account: "444455556666", Region: "eu-west-1", Name: "team/web"}
	for _, key := range []string{
		"444455556666/eu-west-1/team/web",
		"arn:aws:ecr:eu-west-1:444455556666:repository/team/web",
		"444455556666.dkr.ecr.eu-west-1.amazonaws.com/team/web",
		"444455556666.dkr.ecr-fips.eu-west-1.amazonaws.com/team/web",
	} {
		if got, err := ParseRepoKey(key); err != nil || got != want {
			t.Errorf("ParseRepoKey(%q) = %+v, %v; want %+v", key, got, err, want)
		}
	}
	if got, err := ParseRepoKey("team/web"); err != nil || got != (RepoKey{Name: "team/web"}) {
		t.Errorf("bare name = %+v, %v", got, err)
	}
	if _, err := ParseRepoKey(""); err == nil {
		t.Error("empty key accepted")
	}
}
