package supervise

import "time"

// Role is what a staff account may do. An account holds one role, scoped
// to one town or (Town "") the whole city.
type Role string

// The roles of a service hall.
const (
	// RoleClerk (窗口受理) takes applications in: accept, return for
	// correction.
	RoleClerk Role = "clerk"
	// RoleApprover (审批) decides: approve, reject.
	RoleApprover Role = "approver"
	// RoleSupervisor (监督) sees everything in scope: dashboards, overdue
	// cases, follow-up tasks of bad ratings.
	RoleSupervisor Role = "supervisor"
	// RoleAdmin (管理员) manages staff accounts and kiosks' towns.
	RoleAdmin Role = "admin"
)

// Roles lists the roles in display order.
var Roles = []Role{RoleClerk, RoleApprover, RoleSupervisor, RoleAdmin}

// Label is the role's Chinese name.
func (r Role) Label() string {
	switch r {
	case RoleClerk:
		return "窗口受理"
	case RoleApprover:
		return "审批"
	case RoleSupervisor:
		return "监督"
	case RoleAdmin:
		return "管理员"
	case "":
		return "未分配角色"
	}
	return string(r)
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Action is something staff do in the back office.
type Action string

// Actions checked against roles.
const (
	ActAccept    Action = "accepted" // the statuses they set, for the decide form
	ActReturn    Action = "returned"
	ActApprove   Action = "approved"
	ActReject    Action = "rejected"
	ActSupervise Action = "supervise" // dashboards, statistics, overdue lists
	ActFollowUp  Action = "follow-up" // assign and record follow-up tasks
	ActAccounts  Action = "accounts"  // staff roles, kiosks' towns
)

// May reports whether role r may do a. An account created before roles
// existed (no role) keeps what it could do then, decisions, and nothing
// of supervision; give it a role to narrow or widen that.
func (r Role) May(a Action) bool {
	switch r {
	case RoleClerk:
		return a == ActAccept || a == ActReturn
	case RoleApprover:
		return a == ActApprove || a == ActReject
	case RoleSupervisor:
		return a == ActSupervise || a == ActFollowUp
	case RoleAdmin:
		return a == ActAccounts
	case "":
		return a == ActAccept || a == ActReturn || a == ActApprove || a == ActReject
	}
	return false
}

// Account is a staff member's role and scope.
type Account struct {
	User  string
	Name  string // display name shown in histories; the user name when empty
	Role  Role
	Town  string // "" = the whole city
	SetBy string // who gave the role, and when
	SetAt time.Time
}

// InScope reports whether a case of town is within the account's scope.
func (a Account) InScope(town string) bool { return a.Town == "" || a.Town == town }
