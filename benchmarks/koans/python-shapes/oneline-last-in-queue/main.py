queue = ["ana", "bo", "cy"]; served_last = queue[len(queue)]; assert served_last == "cy"
