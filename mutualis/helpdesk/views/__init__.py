"""The helpdesk's pages by audience: member (the ticket routes a member's account uses; staff are
handed on), staff (queue, ticket page, actions on a ticket), configuration (calendars, policies,
categories, matrix, answer templates), supervision (refused mail, failed notifications and jobs,
for operator admins), survey (the requester, from the closure mail's signed link, without logging in);
shared holds what they all use."""
