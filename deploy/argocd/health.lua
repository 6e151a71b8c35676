-- Argo CD health check for patternpolicy.io Pattern and PolicyProposal (the same script for both).
-- Reads the operator's Ready, Reconciling and Stalled conditions (kstatus conventions); a proposal from an
-- operator that wrote no Ready yet is judged by its phase.
local hs = {status = "Progressing", message = "waiting for the patternpolicy operator"}
if obj.status == nil then
  return hs
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  hs.message = "waiting for the operator to observe generation " .. generation
  return hs
end
local found = {}
for _, condition in ipairs(obj.status.conditions or {}) do
  found[condition.type] = condition
end
local ready = found["Ready"]
if ready == nil then
  local phases = {Applied = "Healthy", Superseded = "Healthy", Pending = "Suspended", Invalid = "Degraded",
                  Failed = "Degraded", Approved = "Progressing"}
  if obj.status.phase ~= nil and phases[obj.status.phase] ~= nil then
    hs.status = phases[obj.status.phase]
    hs.message = "phase " .. obj.status.phase
  end
  return hs
end
hs.message = (ready.reason or "") .. ": " .. (ready.message or "")
if found["Stalled"] ~= nil and found["Stalled"].status == "True" then
  hs.status = "Degraded"
elseif ready.status == "True" then
  hs.status = "Healthy"
elseif ready.reason == "AwaitingApproval" then
  hs.status = "Suspended"
else
  hs.status = "Progressing"
end
return hs
